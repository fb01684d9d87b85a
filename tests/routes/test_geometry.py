from __future__ import annotations

from app.routes.geometry import StraightLines, decode_polyline, encode_polyline


def test_google_reference_polyline() -> None:
    # The worked example of Google's "Encoded Polyline Algorithm Format" page.
    points = [(38.5, -120.2), (40.7, -120.95), (43.252, -126.453)]
    assert encode_polyline(points) == "_p~iF~ps|U_ulLnnqC_mqNvxq`@"
    assert decode_polyline("_p~iF~ps|U_ulLnnqC_mqNvxq`@") == points


def test_rounding_and_empty() -> None:
    assert encode_polyline([]) == ""
    assert decode_polyline(encode_polyline([(41.0123456, 28.9999949)])) == [(41.01235, 28.99999)]
    assert StraightLines().geometry([(1.0, 2.0)]).source == "straight"
