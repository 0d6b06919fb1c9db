#!/usr/bin/env python3
"""Writes signer_vectors.json: requests signed by the official Huawei Cloud
Python SDK's signer (huaweicloudsdkcore, signer/signer.py), the reference for
the server's SDK-HMAC-SHA256 check (auth.rs's tests read the file).

Run it with the pinned SDK in a virtual environment of its own, outside the
Rust build:

    python3 -m venv /tmp/signer-venv
    /tmp/signer-venv/bin/pip install huaweicloudsdkcore==3.1.219
    /tmp/signer-venv/bin/python examples/http_server/signer_vectors.py

Each vector holds what the SDK sends (method, path, raw query, headers, body)
and what its signer computed on the way (canonical request, string to sign,
Authorization header), so a failing Rust test can show which step differs.
"""

import json
import os
from types import SimpleNamespace

import huaweicloudsdkcore
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer

# Fixed keys and date: the file must not change from run to run.
AK = "HPUAEXAMPLEAK0000001"
SK = "sk-Example/Secret+Key=0123456789abcdefghij"
DATE = "20261129T183000Z"
PROJECT = "0123456789abcdef0123456789abcdef"
GROUP_PATH = "/v1/%s/images/group" % PROJECT


def sdk_headers(extra=None):
    """The headers the SDK's client sets on a ModelArts call before signing."""
    headers = {
        "User-Agent": "huaweicloud-usdk-python/3.0",
        "X-Project-Id": PROJECT,
        "Content-Type": "application/json",
        "X-Sdk-Date": DATE,
    }
    headers.update(extra or {})
    return headers


CASES = [
    # (name, method, resource path, query params, headers, body, ak, sk)
    ("list_image_group, no parameters", "GET", GROUP_PATH, [], sdk_headers(), "", AK, SK),
    (
        "list_image_group, every parameter",
        "GET",
        GROUP_PATH,
        [
            ("limit", 50),
            ("name", "torch"),
            ("name_fuzzy_match", True),
            ("namespace", "ml"),
            ("offset", 0),
            ("service_type", "TRAIN"),
            ("sort_dir", "ASC"),
            ("sort_key", "create_at,name"),
            ("swr_instance_id", "e7c2f6a8-0d1b-4f43-9a39-5d2a0c3f1b7e"),
            ("type", "DEDICATED"),
            ("workspace_id", "0"),
        ],
        sdk_headers(),
        "",
        AK,
        SK,
    ),
    (
        "query values to percent-encode, unsorted keys",
        "GET",
        GROUP_PATH,
        [
            ("sort_key", "update_at,name"),
            ("name", "py torch/+~*é"),
            ("namespace", "a=b&c"),
            ("limit", 3),
        ],
        sdk_headers(),
        "",
        AK,
        SK,
    ),
    (
        "a list value (the signer sorts its items)",
        "GET",
        GROUP_PATH,
        [("tag", ["b", "a", "c"]), ("empty", "")],
        sdk_headers(),
        "",
        AK,
        SK,
    ),
    (
        "path segment with characters to encode",
        "GET",
        "/v1/%s/images/group" % "proj%20one%2Ftwo",
        [],
        sdk_headers(),
        "",
        AK,
        SK,
    ),
    (
        "extra signed headers, a value with spaces around it",
        "GET",
        GROUP_PATH,
        [("name", "x")],
        sdk_headers({"X-Custom": "  spaced value  ", "Accept": "application/json"}),
        "",
        AK,
        SK,
    ),
    (
        "a header with an underscore is not signed",
        "GET",
        GROUP_PATH,
        [],
        sdk_headers({"X_Unsigned": "anything"}),
        "",
        AK,
        SK,
    ),
    (
        "a body",
        "POST",
        GROUP_PATH,
        [],
        sdk_headers(),
        '{"name": "pytorch"}',
        AK,
        SK,
    ),
    (
        "another key pair",
        "GET",
        GROUP_PATH,
        [("limit", 1)],
        sdk_headers(),
        "",
        "AK2EXAMPLE",
        "another secret key",
    ),
    ("HEAD", "HEAD", GROUP_PATH, [("offset", 10)], sdk_headers(), "", AK, SK),
    (
        "a body that is not JSON: the signer sends X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD",
        "PUT",
        GROUP_PATH,
        [],
        sdk_headers({"Content-Type": "application/octet-stream"}),
        "raw bytes",
        AK,
        SK,
    ),
]


def vector(name, method, path, query, headers, body, ak, sk):
    request = SdkRequest(
        method=method,
        schema="http",
        host="127.0.0.1:8080",
        resource_path=path,
        query_params=list(query),
        header_params=dict(headers),
        body=body.encode("utf-8") if body else "",
    )
    signer = Signer(SimpleNamespace(ak=ak, sk=sk))
    signed_headers = None
    # Recompute the intermediate steps with the signer's own methods, as
    # sign() does, for a readable diff when the Rust side disagrees.
    signer.sign(request)
    signed_headers = request.header_params["Authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    canonical = signer._process_canonical_request(request, signed_headers)
    string_to_sign = signer._process_string_to_sign(
        canonical, signer._process_header_time(request)
    )
    uri = request.uri
    raw_path, _, raw_query = uri.partition("?")
    return {
        "name": name,
        "method": method,
        "path": raw_path,
        "query": raw_query,
        "headers": [[k, v] for k, v in request.header_params.items()],
        "body": body,
        "access_key": ak,
        "secret_key": sk,
        "date": DATE,
        "canonical_request": canonical,
        "string_to_sign": string_to_sign,
        "authorization": request.header_params["Authorization"],
    }


def main():
    out = {
        "generator": "examples/http_server/signer_vectors.py",
        "huaweicloudsdkcore": getattr(huaweicloudsdkcore, "__version__", "3.1.219"),
        "vectors": [vector(*case) for case in CASES],
    }
    target = os.path.join(os.path.dirname(os.path.abspath(__file__)), "signer_vectors.json")
    with open(target, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print("wrote %d vectors to %s" % (len(out["vectors"]), target))


if __name__ == "__main__":
    main()
