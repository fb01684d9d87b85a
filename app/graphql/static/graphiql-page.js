// Starts GraphiQL against this server's /graphql. A file of its own (not an inline script) so the
// page's Content-Security-Policy can allow only this origin's scripts.
(function () {
  "use strict";

  var url = window.location.origin + "/graphql";
  var subscriptionUrl = (window.location.protocol === "https:" ? "wss://" : "ws://") + window.location.host + "/graphql";

  // Queries and mutations are POSTed as JSON; subscriptions use graphql-transport-ws, whose
  // connection_init payload carries the headers editor's content (the server reads Authorization).
  var fetcher = GraphiQL.createFetcher({
    url: url,
    subscriptionUrl: subscriptionUrl,
    enableIncrementalDelivery: false,
  });

  var DEFAULT_QUERY = [
    "# Rouptimize GraphQL API",
    "#",
    "# Paste your credential in the Headers tab below, e.g.",
    '#   {"Authorization": "Bearer <API token or session>"}',
    "# then use the refresh button (or reload) to load the schema into the docs and the explorer.",
    "# Headers are kept for this tab only unless you enable \"Persist headers\" in the settings.",
    "#",
    "# Run the operation with Ctrl-Enter.",
    "",
    "query {",
    "  __typename",
    "}",
    "",
  ].join("\n");

  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: DEFAULT_QUERY,
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      inputValueDeprecation: true,
      plugins: [GraphiQLPluginExplorer.explorerPlugin()],
    }),
  );
})();
