// The settings pages work without this script; it adds copy buttons and keeps the event-type
// checkboxes consistent ("All event types" or a choice of types, not both).
(function () {
  "use strict";

  function statusNear(button) {
    var section = button.closest("section") || document;
    return section.querySelector("[data-copy-status]");
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // Plain http outside localhost has no clipboard API: copy through a selection instead.
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "offscreen";
    document.body.appendChild(area);
    area.select();
    var copied = document.execCommand("copy");
    document.body.removeChild(area);
    return copied ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.getElementById(button.getAttribute("data-copy"));
    var status = statusNear(button);
    copyText(source.textContent).then(
      function () { if (status) status.textContent = "Copied to the clipboard."; },
      function () { if (status) status.textContent = "Copy failed: select the text and copy it by hand."; }
    );
  });

  document.addEventListener("change", function (event) {
    var box = event.target;
    var group = box.closest("[data-event-types]");
    if (!group || box.type !== "checkbox") return;
    var all = group.querySelector("[data-all-events]");
    var types = group.querySelectorAll('input[type="checkbox"]:not([data-all-events])');
    if (box === all && all.checked) {
      types.forEach(function (type) { type.checked = false; });
    } else if (box !== all && box.checked) {
      all.checked = false;
    } else if (!Array.prototype.some.call(types, function (type) { return type.checked; })) {
      all.checked = true;
    }
  });
})();
