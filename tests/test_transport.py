"""The transport Client in-process against the fake API server: get_optional is get with a 404 as None,
the same 401 refresh and the same errors; short_reason is an exception's cause in a few words."""

from __future__ import annotations

import pytest
import yaml

from kubectl_apiinfo.kube import kubeconfig
from kubectl_apiinfo.kube.transport import Client, TransportError, short_reason

JSON = "application/json"


def _client(api, tmp_path, **kw) -> Client:
    return Client(kubeconfig.load(str(api.write_kubeconfig(tmp_path / "kubeconfig", **kw))), 10.0)


def _statuses(api) -> list:
    return [(r["path"], r["status"]) for r in api.requests()["requests"]]


def test_get_optional_answers_none_for_a_missing_path_and_the_response_otherwise(fake_apiserver, tmp_path):
    api = fake_apiserver(release="1.33", token="t0ken", openapi_v3=False)
    with _client(api, tmp_path) as client:
        assert client.get_optional("/openapi/v3", JSON) is None
        assert client.get_optional("/version", JSON).json() == client.get("/version", JSON).json()
        with pytest.raises(TransportError, match=r"^GET /openapi/v3 on .* answered 404 Not Found$"):
            client.get("/openapi/v3", JSON)
    assert _statuses(api) == [("/openapi/v3", 404), ("/version", 200), ("/version", 200), ("/openapi/v3", 404)]


@pytest.mark.parametrize("openapi_v3", [True, False])
def test_get_optional_refreshes_the_credentials_after_a_401_as_get_does(fake_apiserver, tmp_path, openapi_v3):
    api = fake_apiserver(release="1.33", token="right", openapi_v3=openapi_v3)
    config = api.write_kubeconfig(tmp_path / "kubeconfig")
    doc = yaml.safe_load(config.read_text())
    token_file = tmp_path / "token"
    token_file.write_text("rotated-away")
    doc["users"][0]["user"] = {"tokenFile": str(token_file)}
    config.write_text(yaml.safe_dump(doc))
    with Client(kubeconfig.load(str(config)), 10.0) as client:
        token_file.write_text("right")  # a projected token rotated after the client read it
        answer = client.get_optional("/openapi/v3", JSON)
    assert (answer is None) is (not openapi_v3)
    assert _statuses(api) == [("/openapi/v3", 401), ("/openapi/v3", 200 if openapi_v3 else 404)]


@pytest.mark.parametrize(
    "faults, status",
    [({"status_override": {"/openapi/v3": 500}}, 500), ({"status_override": {"/openapi/v3": 403}}, 403), ({"unauthorized": True}, 401)],
    ids=["500", "403", "401"],
)
def test_get_optional_fails_with_gets_words(fake_apiserver, tmp_path, faults, status):
    api = fake_apiserver(release="1.33", token="t0ken", **faults)
    with _client(api, tmp_path) as client:
        with pytest.raises(TransportError) as optional:
            client.get_optional("/openapi/v3", JSON)
        with pytest.raises(TransportError) as plain:
            client.get("/openapi/v3", JSON)
    assert str(optional.value) == str(plain.value) and f"{status}" in str(plain.value)
    assert getattr(optional.value, "unauthorized", False) is getattr(plain.value, "unauthorized", False) is (status == 401)
    assert "t0ken" not in str(optional.value)


def test_short_reason_is_the_innermost_cause_in_a_few_words():
    try:
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except OSError as cause:
            raise RuntimeError("HTTPSConnectionPool(host='x', port=443): Failed to establish a new connection: [Errno 111]") from cause
    except RuntimeError as error:
        assert short_reason(error) == "Connection refused"
    assert short_reason(ValueError("bad (_ssl.c:1000)")) == "bad"
    assert short_reason(ValueError()) == "ValueError"
    assert len(short_reason(ValueError("x" * 500))) == 200
