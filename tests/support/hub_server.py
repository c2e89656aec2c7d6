"""A small Hugging Face Hub on 127.0.0.1: the routes ``huggingface_hub`` uses to push a dataset.

Read from ``huggingface_hub``'s own code (``HfApi.create_repo``, ``HfApi.create_commit``):

- ``POST /api/repos/create``: ``{"name", "organization", "type", "visibility"}``; 409 if the repo
  exists (``exist_ok=True`` accepts that);
- ``POST /api/validate-yaml``: the README's metadata, checked before anything is uploaded;
- ``POST /api/{type}s/{owner}/{name}/preupload/{revision}``: how each file is to be sent; this
  server answers ``regular`` for all, so their bytes come inline in the commit;
- ``POST /api/{type}s/{owner}/{name}/commit/{revision}``: NDJSON, a header line then one line per
  file (base64 content), applied atomically;
- ``GET /api/{type}s/{owner}/{name}/revision/{revision}``: the repo's head, asked for instead of a
  commit when every file is unchanged.

Every route checks the bearer token. Files land in memory, so a test reads back exactly the
bytes the client sent: nothing about the result is assumed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import yaml


@dataclass
class HubRepo:
    repo_type: str
    private: bool
    files: dict[str, bytes] = field(default_factory=dict)
    commits: list[dict[str, Any]] = field(default_factory=list)


class LocalHub:
    """``with LocalHub(token="hf_x") as hub: ... hub.endpoint ... hub.repos["me/data"]``."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.repos: dict[str, HubRepo] = {}
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                hub._handle(self)

            def do_GET(self) -> None:
                hub._handle(self)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> LocalHub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # ------------------------------------------------------------------ routes
    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        body = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        path = request.path.split("?", 1)[0]
        with self._lock:
            self.requests.append((request.command, path))
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return _reply(request, 401, {"error": "Invalid credentials in Authorization header"})
        parts = path.strip("/").split("/")
        if path == "/api/repos/create":
            return self._create(request, json.loads(body))
        if path == "/api/validate-yaml":
            return self._validate_yaml(request, json.loads(body))
        if (
            len(parts) >= 6
            and parts[0] == "api"
            and parts[4] in ("preupload", "commit", "revision")
        ):
            repo_id = f"{parts[2]}/{parts[3]}"
            repo = self.repos.get(repo_id)
            if repo is None or repo.repo_type + "s" != parts[1]:
                return _reply(
                    request,
                    404,
                    {"error": f"Repository not found: {repo_id}"},
                    {"X-Error-Code": "RepoNotFound"},
                )
            if parts[4] == "revision":
                return self._info(request, repo_id, repo)
            if parts[4] == "preupload":
                return self._preupload(request, repo, json.loads(body))
            return self._commit(request, repo_id, repo, body)
        return _reply(request, 404, {"error": f"no route {path}"})

    def _create(self, request, payload: dict[str, Any]) -> None:
        repo_id = f"{payload['organization']}/{payload['name']}"
        with self._lock:
            if repo_id in self.repos:
                return _reply(
                    request,
                    409,
                    {"error": "You already created this dataset repo", "url": self._url(repo_id)},
                )
            self.repos[repo_id] = HubRepo(
                repo_type=payload.get("type") or "model",
                private=payload.get("visibility") == "private",
            )
        _reply(request, 200, {"url": self._url(repo_id)})

    def _url(self, repo_id: str) -> str:
        kind = self.repos[repo_id].repo_type
        return f"{self.endpoint}/{'' if kind == 'model' else kind + 's/'}{repo_id}"

    def _validate_yaml(self, request, payload: dict[str, Any]) -> None:
        content = payload["content"]
        errors = []
        if not content.startswith("---\n"):
            errors.append({"message": "README.md has no YAML metadata block"})
        else:
            try:
                metadata = yaml.safe_load(content.split("---\n", 2)[1])
                if not isinstance(metadata, dict):
                    errors.append({"message": "metadata is not a mapping"})
            except yaml.YAMLError as exc:
                errors.append({"message": f"invalid YAML: {exc}"})
        _reply(request, 400 if errors else 200, {"errors": errors, "warnings": []})

    def _info(self, request, repo_id: str, repo: HubRepo) -> None:
        """``GET .../revision/{rev}`` (``repo_info``): asked when a commit would change nothing."""
        _reply(
            request,
            200,
            {
                "id": repo_id,
                "sha": _head(repo),
                "private": repo.private,
                "siblings": [{"rfilename": path} for path in sorted(repo.files)],
            },
        )

    def _preupload(self, request, repo: HubRepo, payload: dict[str, Any]) -> None:
        files = [
            {
                "path": item["path"],
                "uploadMode": "regular",
                "shouldIgnore": False,
                "oid": _git_oid(repo.files[item["path"]]) if item["path"] in repo.files else None,
            }
            for item in payload["files"]
        ]
        _reply(request, 200, {"files": files, "commitOid": _head(repo)})

    def _commit(self, request, repo_id: str, repo: HubRepo, body: bytes) -> None:
        lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
        header = lines[0]
        if header.get("key") != "header":
            return _reply(request, 400, {"error": "the first line must be the commit header"})
        changes: dict[str, bytes] = {}
        for line in lines[1:]:
            if line["key"] != "file" or line["value"].get("encoding") != "base64":
                return _reply(request, 400, {"error": f"unsupported operation {line['key']}"})
            changes[line["value"]["path"]] = base64.b64decode(line["value"]["content"])
        with self._lock:
            repo.files.update(changes)
            oid = hashlib.sha1(body).hexdigest()
            repo.commits.append({"oid": oid, "summary": header["value"]["summary"]})
        _reply(
            request,
            200,
            {
                "commitOid": oid,
                "commitUrl": f"{self.endpoint}/datasets/{repo_id}/commit/{oid}",
                "success": True,
            },
        )


def _head(repo: HubRepo) -> str | None:
    return repo.commits[-1]["oid"] if repo.commits else None


def _git_oid(content: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def _reply(request, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
    body = json.dumps(payload).encode()
    request.send_response(status)
    request.send_header("Content-Type", "application/json")
    request.send_header("Content-Length", str(len(body)))
    for name, value in (headers or {}).items():
        request.send_header(name, value)
    request.end_headers()
    request.wfile.write(body)
