#!/usr/bin/env python3
"""Test vectors for the SDK-HMAC-SHA256 signature, taken from the official signer.

    python tests/sdk/make_vectors.py            # rewrites tests/sdk/signer_vectors.json
    python tests/sdk/make_vectors.py --check    # fails if the file differs from the signer's output

Run it with a Python that has the pinned SDK installed (tests/sdk/run.sh makes
such a virtual environment and runs `--check`): `huaweicloudsdkcore` is the
reference for what the server must accept, so the vectors come from its own
`Signer` class, never from a re-implementation. The signer's intermediate
values (canonical request, string to sign) are private; they are read by
wrapping the class's methods, which still run unchanged.

Two kinds of vector:

* "signer": an `SdkRequest` built here and signed the way the SDK signs every
  request (`BasicCredentials.sign_request`, which adds `X-Project-Id` and calls
  `Signer.sign`). These cover the inputs a verifier must canonicalize: repeated
  keys, unicode, spaces, `+`, `~`, empty values, unsorted parameters, encoded
  path segments, bodies.
* "client": a `ModelArtsClient.list_image_group` call, with the clock fixed,
  kept as `requests` hands it to the network (a transport adapter stands in for
  the connection, so the Host is the real endpoint's and the vectors do not
  depend on a port). These show what a real client sends, unsigned headers
  (Accept-Encoding, Connection, ...) included.

Each vector holds the request as sent on the wire (`method`, `path`, `query`
without the `?`, `headers` as [name, value] pairs in the order sent, `body`),
the keys (`access_key`, `secret_key`), `x_sdk_date`, and what the SDK computed:
`signed_headers`, `canonical_request`, `string_to_sign`, `signature`,
`authorization`. Header values and the body are strings whose UTF-8 bytes are
what is sent.

Some vectors also carry `alt_queries`: other spellings of the same query
(parameters in another order, `%7E` for `~`, lowercase hex digits, `:` left
unencoded) written by hand here, not by the SDK. The signer signs decoded
parameters, so each of these decodes to the same pairs and must verify with the
same signature; a verifier that signs the bytes of the query as received would
refuse them.

Before the file is written, every vector is rebuilt from its wire fields alone
by a few independent lines following the rules in `notes` (`rebuild`), and must
give the SDK's canonical request, string to sign and signature: the fields are
enough for a verifier, and the notes describe the signer truly.

Behaviours of the signer these vectors pin down (see `notes` in the output):
the query pairs are sorted by their decoded key and value (code point order,
which is UTF-8 byte order), not by their encoded form; the canonical URI
decodes the whole path before splitting it at `/`; every header whose name has
no `_` is signed, and the client signs `Content-Type` and `User-Agent` too.
"""

import argparse
import datetime as _dt
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "signer_vectors.json"
SDK_VERSION = "3.1.219"

try:
    import huaweicloudsdkcore
    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdkcore.sdk_request import SdkRequest
    from huaweicloudsdkcore.signer import signer as signer_module
    from huaweicloudsdkcore.signer.signer import Signer
except ImportError:
    sys.exit("make_vectors.py: needs huaweicloudsdkcore==%s (tests/sdk/run.sh makes a venv with it)"
             % SDK_VERSION)


def installed_version(name):
    from importlib.metadata import version
    return version(name)


class Capture:
    """Wraps three of Signer's methods to record what they return, per call."""

    def __init__(self):
        self.seen = []
        self._saved = {}

    def __enter__(self):
        def wrap(name):
            original = getattr(Signer, name)
            self._saved[name] = original

            def wrapper(signer_self, *args, **kwargs):
                result = original(signer_self, *args, **kwargs)
                self.seen.append((name, result))
                return result
            setattr(Signer, name, wrapper)
        for name in ("_process_canonical_request", "_process_string_to_sign", "_sign_string_to_sign"):
            wrap(name)
        return self

    def __exit__(self, *exc):
        for name, original in self._saved.items():
            setattr(Signer, name, original)

    def take(self):
        """The canonical request, string to sign and signature of the one signing seen."""
        names = [name for name, _ in self.seen]
        assert names == ["_process_canonical_request", "_process_string_to_sign",
                         "_sign_string_to_sign"], names
        values = [value for _, value in self.seen]
        self.seen = []
        return values


class FixedClock:
    """Makes the signer's `datetime.utcnow()` return a fixed time (client vectors)."""

    def __init__(self, when):
        self.when = when

    def __enter__(self):
        when = self.when

        class Fixed(_dt.datetime):
            @classmethod
            def utcnow(cls):
                return when
        self._saved = signer_module.datetime
        signer_module.datetime = Fixed
        return self

    def __exit__(self, *exc):
        signer_module.datetime = self._saved


def signed_headers_of(authorization):
    return authorization.split("SignedHeaders=", 1)[1].split(",", 1)[0]


# ---------------------------------------------------------------- "signer" vectors
#
# path: as sent (the SDK puts path parameters in with quote(v, safe='')).
# params: the (key, value) pairs given to the signer, in the caller's order.
# headers: set before signing; the signer adds X-Sdk-Date (fixed here through the
# header, which the signer parses instead of reading the clock), Host and, via
# BasicCredentials, X-Project-Id.

AK1, SK1 = "HPUAEXAMPLEAK0000001", "exampleSecretKey0000000000000000000000001"
AK2, SK2 = "QTWAOYTTINDUT2QVKYUC", "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc"
AK3 = "UNICODEPROJECTKEY003"
SK3 = "s" * 100  # longer than SHA-256's 64-byte block: HMAC hashes the key first
AK4, SK4 = "AK4", "sk-4/+=~ with spaces and symbols"

GROUP_PATH = "/v1/%s/images/group"
P1 = "2f1f2b8a9c0d4e3f8a7b6c5d4e3f2a1b"
P2 = "0c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f"

SIGNER_CASES = [
    dict(name="sdk_all_parameters",
         description="every ListImageGroupRequest parameter, as the SDK passes them (bool as True)",
         ak=AK1, sk=SK1, project=P1, date="20261129T183000Z", path=GROUP_PATH % P1,
         params=[("name", "pytorch"), ("name_fuzzy_match", True), ("namespace", "team-a"),
                 ("type", "DEDICATED"), ("workspace_id", "0"), ("limit", 10), ("offset", 20),
                 ("swr_instance_id", "5a1b2c3d-0000-4000-8000-00000000abcd")],
         headers={"Content-Type": "application/json", "User-Agent": "huaweicloud-usdk-python/3.0"},
         alt_queries=["swr_instance_id=5a1b2c3d-0000-4000-8000-00000000abcd&offset=20&limit=10"
                      "&workspace_id=0&type=DEDICATED&namespace=team-a&name_fuzzy_match=true&name=pytorch"]),
    dict(name="no_query",
         description="no query string at all: the canonical query is the empty line",
         ak=AK1, sk=SK1, project=P1, date="20261129T183000Z", path=GROUP_PATH % P1,
         params=[], headers={}),
    dict(name="repeated_keys",
         description="a key given three times, out of order: pairs sort by key, then value",
         ak=AK2, sk=SK2, project=P2, date="20250101T000000Z", path=GROUP_PATH % P2,
         params=[("type", "DEDICATED"), ("limit", "5"), ("type", "BUILD_IN"), ("type", "AAA")],
         headers={},
         alt_queries=["type=DEDICATED&limit=5&type=BUILD_IN&type=AAA",
                      "type=AAA&type=DEDICATED&type=BUILD_IN&limit=5"]),
    dict(name="unicode_values",
         description="non-ASCII keys' values: percent-encoded UTF-8, uppercase hex",
         ak=AK1, sk=SK1, project=P1, date="20261231T235959Z", path=GROUP_PATH % P1,
         params=[("name", "图像-模型"), ("namespace", "équipe"), ("workspace_id", "ws-ü")],
         headers={},
         alt_queries=["workspace_id=ws-%c3%bc&namespace=%c3%a9quipe&name=%e5%9b%be%e5%83%8f-%e6%a8%a1%e5%9e%8b"]),
    dict(name="spaces_and_plus",
         description="a space is %20 and a plus %2B on the wire and in the canonical query",
         ak=AK2, sk=SK2, project=P2, date="20261129T120000Z", path=GROUP_PATH % P2,
         params=[("name", "my model"), ("namespace", "a+b"), ("type", " lead and trail ")],
         headers={}),
    dict(name="tilde_and_unreserved",
         description="unreserved characters (ALPHA DIGIT - . _ ~) stay as they are; others are encoded",
         ak=AK1, sk=SK1, project=P1, date="20261129T183000Z", path=GROUP_PATH % P1,
         params=[("name", "a~b.c-d_e"), ("namespace", "x:y/z?w#v&u=t"), ("type", "!*'();@$,[]")],
         headers={},
         alt_queries=["name=a%7Eb.c-d_e&namespace=x:y%2Fz%3Fw%23v%26u%3Dt&type=%21%2A%27%28%29%3B%40%24%2C%5B%5D"]),
    dict(name="empty_values",
         description="empty values: `key=` in the canonical query",
         ak=AK1, sk=SK1, project=P1, date="20261129T183000Z", path=GROUP_PATH % P1,
         params=[("name", ""), ("namespace", ""), ("offset", 0)],
         headers={},
         alt_queries=["offset=0&namespace=&name="]),
    dict(name="decoded_sort_order",
         description="the signer sorts decoded values (code points), not encoded ones: "
                     "'a' < '|' < '~' < 'é' decoded, but '%7C' < '%C3%A9' < 'a' < '~' encoded",
         ak=AK4, sk=SK4, project=P2, date="20261129T183000Z", path=GROUP_PATH % P2,
         params=[("v", "é"), ("v", "~"), ("v", "a"), ("v", "|"), ("v", "Z"), ("v", "_"),
                 ("k|", "2"), ("k~", "3"), ("ka", "1")],
         headers={}),
    dict(name="unicode_project_path",
         description="a path segment with encoded characters: decoded, then encoded again "
                     "(unreserved only), the canonical URI ends in /",
         ak=AK3, sk=SK3, project="proj ~é", date="20261129T183000Z",
         path=GROUP_PATH % "proj%20~%C3%A9",
         params=[("limit", "1")], headers={}),
    dict(name="path_trailing_slash_and_lowercase_hex",
         description="a path already ending in / keeps a single /; lowercase %7e in the path "
                     "decodes to ~ and stays ~",
         ak=AK2, sk=SK2, project=P2, date="20261129T183000Z",
         path="/v1/%s/images/group%%7eold/" % P2,
         params=[("limit", "2")], headers={}),
    dict(name="encoded_slash_in_path",
         description="QUIRK: the signer decodes the whole path before splitting it, so %2F "
                     "inside a segment becomes a / in the canonical URI (two segments)",
         ak=AK1, sk=SK1, project="a/b", date="20261129T183000Z",
         path=GROUP_PATH % "a%2Fb",
         params=[], headers={}),
    dict(name="extra_headers",
         description="every header without '_' in its name is signed, names lowercased and "
                     "sorted, values trimmed (inner spaces kept); X_Custom is sent, not signed",
         ak=AK1, sk=SK1, project=P1, date="20261129T183000Z", path=GROUP_PATH % P1,
         params=[("limit", "3")],
         headers={"Content-Type": "application/json;charset=UTF-8",
                  "X-Request-Tag": "  two  spaces  inside  ", "X_Custom": "not signed",
                  "Accept-Language": "zh-CN", "X-Label": "标签"}),
    dict(name="post_json_body",
         description="a JSON body: the last line is the hex SHA-256 of its bytes",
         method="POST", ak=AK2, sk=SK2, project=P2, date="20261129T183000Z",
         path="/v1/%s/images" % P2, params=[],
         headers={"Content-Type": "application/json"},
         body='{"name":"图像","limit":1}'),
    dict(name="unsigned_payload",
         description="a body with a non-JSON Content-Type: the SDK adds "
                     "X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD and uses that value as the body hash",
         method="PUT", ak=AK2, sk=SK2, project=P2, date="20261129T183000Z",
         path="/v1/%s/images/upload" % P2, params=[("part", "1")],
         headers={"Content-Type": "application/octet-stream"},
         body="raw bytes"),
]


def signer_vector(case):
    method = case.get("method", "GET")
    body = case.get("body")
    headers = dict(case["headers"])
    headers["X-Sdk-Date"] = case["date"]
    request = SdkRequest(method=method, schema="http", host="127.0.0.1:8080",
                         resource_path=case["path"], query_params=list(case["params"]),
                         header_params=headers, body=body.encode() if body else None)
    credentials = BasicCredentials(case["ak"], case["sk"], case["project"])
    with Capture() as capture:
        credentials.sign_request(request)
        canonical_request, string_to_sign, signature = capture.take()
    path, _, query = request.uri.partition("?")
    assert path == case["path"], (path, case["path"])
    # As sent: the signer leaves each header value as its UTF-8 bytes read as
    # Latin-1 (what `requests` then puts on the wire); decode it back to text.
    sent = [(k, v.encode("iso-8859-1").decode("utf-8")) for k, v in request.header_params.items()]
    authorization = request.header_params["Authorization"]
    vector = dict(
        name=case["name"], kind="signer", description=case["description"],
        method=method, path=path, query=query, headers=sent, body=body or "",
        access_key=case["ak"], secret_key=case["sk"], x_sdk_date=case["date"],
        project_id=case["project"],
        signed_headers=signed_headers_of(authorization),
        canonical_request=canonical_request, string_to_sign=string_to_sign,
        signature=signature, authorization=authorization)
    if case.get("alt_queries"):
        vector["alt_queries"] = case["alt_queries"]
        check_alt_queries(query, case["alt_queries"])
    return vector


def check_alt_queries(query, alternatives):
    """Each hand-written spelling decodes to the same multiset of pairs as the SDK's."""
    from urllib.parse import unquote

    def pairs(q):
        out = []
        for part in q.split("&"):
            key, _, value = part.partition("=")
            out.append((unquote(key), unquote(value)))
        return sorted(out)
    for alternative in alternatives:
        assert pairs(alternative) == pairs(query), (alternative, query)


# ---------------------------------------------------------------- "client" vectors

CLIENT_CASES = [
    dict(name="client_all_parameters",
         description="ModelArtsClient.list_image_group with every parameter, as it arrived",
         ak=AK1, sk=SK1, project=P1, when=_dt.datetime(2026, 11, 29, 18, 30, 0),
         request=dict(name="resnet 50+", name_fuzzy_match=True, namespace="team~a", type="DEDICATED",
                      workspace_id="0", limit=50, offset=0,
                      swr_instance_id="5a1b2c3d-0000-4000-8000-00000000abcd")),
    dict(name="client_defaults",
         description="ModelArtsClient.list_image_group with no parameter, as it arrived",
         ak=AK2, sk=SK2, project=P2, when=_dt.datetime(2024, 2, 29, 23, 59, 59),
         request=dict()),
]


ENDPOINT = "https://modelarts.cn-north-4.myhuaweicloud.com"


def client_vectors():
    try:
        import requests
        from huaweicloudsdkcore.http.http_config import HttpConfig
        from huaweicloudsdkmodelarts.v1 import ListImageGroupRequest, ModelArtsClient
    except ImportError:
        sys.exit("make_vectors.py: needs huaweicloudsdkmodelarts==%s" % SDK_VERSION)

    class Recorder(requests.adapters.BaseAdapter):
        """Takes the place of the network: keeps the request as `requests` would send it."""

        def __init__(self):
            super().__init__()
            self.arrived = []

        def send(self, request, **kwargs):
            self.arrived.append(request)
            response = requests.Response()
            response.status_code = 200
            response.headers["Content-Type"] = "application/json"
            response._content = json.dumps(dict(total=0, count=0, limit=10, offset=0, groups=[])).encode()
            response.url = request.url
            response.request = request
            return response

        def close(self):
            pass

    vectors = []
    for case in CLIENT_CASES:
        config = HttpConfig.get_default_config()
        # A fixed User-Agent: the default one names this machine's OS and a
        # per-user application id, which would change the vectors.
        config.user_agent = "make_vectors"
        client = ModelArtsClient.new_builder().with_http_config(config) \
            .with_credentials(BasicCredentials(case["ak"], case["sk"], case["project"])) \
            .with_endpoint(ENDPOINT).build()
        recorder = Recorder()
        client.get_http_client()._session.mount("https://", recorder)
        with Capture() as capture, FixedClock(case["when"]):
            client.list_image_group(ListImageGroupRequest(**case["request"]))
            canonical_request, string_to_sign, signature = capture.take()
        (sent,) = recorder.arrived
        target = sent.url.split(ENDPOINT, 1)[1]
        path, _, query = target.partition("?")
        headers = [(k, v if isinstance(v, str) else v.decode("utf-8")) for k, v in sent.headers.items()]
        authorization = sent.headers["Authorization"]
        vectors.append(dict(
            name=case["name"], kind="client", description=case["description"],
            method=sent.method, path=path, query=query, headers=headers, body="",
            access_key=case["ak"], secret_key=case["sk"],
            x_sdk_date=case["when"].strftime("%Y%m%dT%H%M%SZ"), project_id=case["project"],
            signed_headers=signed_headers_of(authorization),
            canonical_request=canonical_request, string_to_sign=string_to_sign,
            signature=signature, authorization=authorization))
    return vectors


NOTES = [
    "Generated by tests/sdk/make_vectors.py from huaweicloudsdkcore's own Signer; do not edit by hand.",
    "query is the query string as sent, without '?'; the SDK sends its canonical query string.",
    "alt_queries are hand-written spellings of the same parameters; each must verify with the same signature.",
    "Query pairs are sorted by decoded key, then decoded value (code point = UTF-8 byte order), "
    "then encoded: see decoded_sort_order.",
    "The canonical URI decodes the whole path, splits it at '/', encodes each segment "
    "(all but A-Z a-z 0-9 - . _ ~) and ends in '/': see encoded_slash_in_path for %2F.",
    "Every header without '_' in its name is signed; the SDK client signs content-type and user-agent too.",
]


def rebuild(vector, query):
    """The canonical request from a vector's wire fields alone, by the rules the
    notes state: a check that each vector holds everything a verifier needs."""
    import hashlib
    from urllib.parse import quote, unquote

    def encode(text):
        return quote(text, safe="~")
    uri = "/".join(encode(segment) for segment in unquote(vector["path"]).split("/"))
    if not uri.endswith("/"):
        uri += "/"
    pairs = []
    for part in query.split("&") if query else []:
        key, _, value = part.partition("=")
        pairs.append((unquote(key), unquote(value)))
    canonical_query = "&".join("%s=%s" % (encode(k), encode(v)) for k, v in sorted(pairs))
    headers = {name.lower(): value.strip() for name, value in vector["headers"]}
    signed = vector["signed_headers"].split(";")
    canonical_headers = "".join("%s:%s\n" % (name, headers[name]) for name in signed)
    if headers.get("x-sdk-content-sha256"):
        body_hash = headers["x-sdk-content-sha256"]
    else:
        body_hash = hashlib.sha256(vector["body"].encode()).hexdigest()
    return "\n".join([vector["method"], uri, canonical_query, canonical_headers,
                      vector["signed_headers"], body_hash])


def check_vector(vector):
    import hashlib
    import hmac
    for query in [vector["query"]] + vector.get("alt_queries", []):
        assert rebuild(vector, query) == vector["canonical_request"], (vector["name"], query)
    string_to_sign = "SDK-HMAC-SHA256\n%s\n%s" % (
        vector["x_sdk_date"], hashlib.sha256(vector["canonical_request"].encode()).hexdigest())
    assert string_to_sign == vector["string_to_sign"], vector["name"]
    signature = hmac.new(vector["secret_key"].encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()
    assert signature == vector["signature"], vector["name"]
    assert vector["authorization"] == "SDK-HMAC-SHA256 Access=%s, SignedHeaders=%s, Signature=%s" % (
        vector["access_key"], vector["signed_headers"], vector["signature"]), vector["name"]
    assert dict(vector["headers"])["Authorization"] == vector["authorization"], vector["name"]


def generate():
    got = installed_version("huaweicloudsdkcore")
    if got != SDK_VERSION:
        sys.exit("make_vectors.py: huaweicloudsdkcore %s installed, vectors are for %s" % (got, SDK_VERSION))
    vectors = [signer_vector(case) for case in SIGNER_CASES]
    vectors += client_vectors()
    for vector in vectors:
        check_vector(vector)
    return dict(generator="tests/sdk/make_vectors.py", huaweicloudsdkcore=SDK_VERSION,
                algorithm="SDK-HMAC-SHA256", notes=NOTES, vectors=vectors)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="compare with the committed file instead of writing it")
    args = parser.parse_args()
    data = generate()
    text = json.dumps(data, ensure_ascii=False, indent=1) + "\n"
    if args.check:
        old = json.loads(OUT.read_text(encoding="utf-8"))
        if old != json.loads(text):
            sys.exit("make_vectors.py: %s differs from what the signer gives now" % OUT)
        print("signer vectors: %d, equal to the signer's output" % len(data["vectors"]))
    else:
        OUT.write_text(text, encoding="utf-8")
        print("wrote %s (%d vectors)" % (OUT, len(data["vectors"])))


if __name__ == "__main__":
    main()
