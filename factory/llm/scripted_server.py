"""A real local HTTP server speaking the OpenAI chat-completions protocol, with scripted replies.

Tests and benchmarks point the real ``openai`` client at it, so retries, rate limits, dropped
connections, latency and malformed output all travel the same code path as in production.
It runs ``http.server.ThreadingHTTPServer`` on 127.0.0.1 (port chosen by the OS) in a daemon
thread::

    with ScriptedLLMServer(lambda request: ScriptedReply(content="hi")) as server:
        config = LLMConfig(base_url=server.base_url, model="m")
        ...
        server.requests  # every chat-completion request body, parsed

The responder is a callable ``(request_json) -> ScriptedReply | str`` or a list/iterator of
replies consumed in order. For ``n > 1`` it is called once per choice.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

Responder = Callable[[dict[str, Any]], "ScriptedReply | str"]


@dataclass(frozen=True)
class ScriptedReply:
    """What the server does for one request (or one choice, when ``n > 1``).

    Attributes:
        content: the assistant message text (status 200).
        status: HTTP status; anything but 200 sends an OpenAI-style error body.
        headers: extra response headers, e.g. ``{"Retry-After": "1"}``.
        body: the raw body to send instead (dict/list as JSON, str/bytes as is).
        delay_s: answer this long after the request arrived (fixed latency for benchmarks,
            timeouts); the server's own time reading and parsing the request counts.
        drop: close the connection without any response.
        finish_reason: reported per choice ("stop", "length", ...).
        prompt_tokens / completion_tokens: usage to report; default about len(text) / 4.
    """

    content: str | None = None
    status: int = 200
    headers: dict[str, str] | None = None
    body: Any = None
    delay_s: float = 0.0
    drop: bool = False
    finish_reason: str = "stop"
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


def estimate_tokens(text: str) -> int:
    """Rough token count (4 characters a token), enough to test usage accounting."""
    return max(1, len(text) // 4) if text else 0


class ScriptedLLMServer:
    """A threaded OpenAI-compatible server on 127.0.0.1 that plays back scripted replies.

    Args:
        responder: callable ``(request_json) -> ScriptedReply | str``, or an iterable of
            replies consumed one per call (a request arriving after the script ran out gets
            a 400 saying so).
        models: model ids served; GET /v1/models lists them and chat requests for other
            models get 404. None (the default) lists nothing and accepts any model.
        required_api_key: when set, requests without ``Authorization: Bearer <key>`` get 401.
    """

    def __init__(
        self,
        responder: Responder | Iterable[ScriptedReply | str],
        *,
        models: Iterable[str] | None = None,
        required_api_key: str | None = None,
    ) -> None:
        self._responder = _as_responder(responder)
        self.models = list(models) if models is not None else None
        self.required_api_key = required_api_key
        self._lock = threading.Lock()
        self._requests: list[dict[str, Any]] = []
        self._in_flight = 0
        self.max_in_flight = 0  # most chat requests being handled at the same moment
        self.model_list_calls = 0
        self._httpd: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._base_url: str | None = None

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Chat-completion request bodies received so far (a copy, safe to read anytime)."""
        with self._lock:
            return list(self._requests)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``; still readable after the server stopped."""
        if self._base_url is None:
            raise RuntimeError("ScriptedLLMServer is not started: use it as a context manager")
        return self._base_url

    def start(self) -> ScriptedLLMServer:
        handler = type("BoundHandler", (_Handler,), {"scripted": self})
        self._httpd = _QuietServer(("127.0.0.1", 0), handler)
        host, port = self._httpd.server_address[:2]
        self._base_url = f"http://{host}:{port}/v1"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="scripted-llm-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> ScriptedLLMServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # Called from handler threads.

    def _record(self, body: dict[str, Any]) -> None:
        with self._lock:
            self._requests.append(body)

    def _enter(self) -> None:
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _replies_for(self, request: dict[str, Any]) -> list[ScriptedReply]:
        """One reply per choice; stops at the first that is an error or a drop."""
        n = request.get("n") or 1
        replies: list[ScriptedReply] = []
        for _ in range(max(1, int(n))):
            reply = self._responder(request)
            reply = ScriptedReply(content=reply) if isinstance(reply, str) else reply
            replies.append(reply)
            if reply.status != 200 or reply.drop:
                break
        return replies


class _ScriptExhausted(Exception):
    pass


def _as_responder(responder: Responder | Iterable[ScriptedReply | str]) -> Responder:
    if callable(responder):
        return responder
    replies: Iterator[ScriptedReply | str] = iter(responder)
    lock = threading.Lock()

    def next_reply(_request: dict[str, Any]) -> ScriptedReply | str:
        with lock:
            try:
                return next(replies)
            except StopIteration:
                raise _ScriptExhausted from None

    return next_reply


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # The default backlog of 5 drops SYNs when many clients connect at once, and each
    # dropped SYN costs a one-second retransmit: fatal for latency benchmarks.
    request_queue_size = 1024

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up (timeouts in tests) are expected; keep stderr clean."""


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like real servers; needs Content-Length
    timeout = 60  # close idle keep-alive connections eventually
    # Buffer the response so headers and body leave in one write (flushed after each
    # request), and never let Nagle hold a segment back for the client's delayed ACK
    # (~40 ms a request otherwise).
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True
    scripted: ScriptedLLMServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def parse_request(self) -> bool:
        # Called as soon as the request line is in: the reply's latency counts from here.
        self.arrived = time.monotonic()
        return super().parse_request()

    def do_GET(self) -> None:
        if not self._authorized():
            return
        if self.path.rstrip("/") != "/v1/models":
            self._send_error(404, f"no route for GET {self.path}")
            return
        with self.scripted._lock:
            self.scripted.model_list_calls += 1
        created = int(time.time())
        data = [
            {"id": model, "object": "model", "created": created, "owned_by": "scripted"}
            for model in self.scripted.models or []
        ]
        self._send_json(200, {"object": "list", "data": data})

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if not self._authorized():
            return
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send_error(404, f"no route for POST {self.path}")
            return
        try:
            request = json.loads(raw)
        except ValueError:
            self._send_error(400, "request body is not JSON")
            return
        self.scripted._record(request)
        models = self.scripted.models
        if models is not None and request.get("model") not in models:
            self._send_error(404, f"The model `{request.get('model')}` does not exist.")
            return
        self.scripted._enter()
        try:
            self._answer(request)
        finally:
            self.scripted._leave()

    def _answer(self, request: dict[str, Any]) -> None:
        try:
            replies = self.scripted._replies_for(request)
        except _ScriptExhausted:
            self._send_error(400, "ScriptedLLMServer: no scripted reply left for this request")
            return
        delay_s = max(reply.delay_s for reply in replies)
        time.sleep(max(0.0, self.arrived + delay_s - time.monotonic()))
        last = replies[-1]
        if last.drop:
            self.close_connection = True
            return  # the server closes the socket without a byte of response
        if last.status != 200:
            self._send_error(last.status, None, last.headers, last.body)
            return
        if last.body is not None:
            self._send_json(200, last.body, last.headers)
            return
        self._send_json(200, _completion_body(request, replies), last.headers)

    def _authorized(self) -> bool:
        key = self.scripted.required_api_key
        if key is None or self.headers.get("Authorization") == f"Bearer {key}":
            return True
        self._send_error(401, "Incorrect API key provided.", code="invalid_api_key")
        return False

    def _send_error(
        self,
        status: int,
        message: str | None,
        headers: dict[str, str] | None = None,
        body: Any = None,
        code: str | None = None,
    ) -> None:
        if body is None:
            phrase = _phrase(status)
            body = {
                "error": {
                    "message": message or f"scripted {status} {phrase}",
                    "type": "invalid_request_error" if status < 500 else "server_error",
                    "param": None,
                    "code": code,
                }
            }
        self._send_json(status, body, headers)

    def _send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        if isinstance(body, bytes):
            payload = body
        elif isinstance(body, str):
            payload = body.encode()
        else:
            payload = json.dumps(body).encode()
        self.send_response(status, _phrase(status))
        merged = {"Content-Type": "application/json", **(headers or {})}
        for name, value in merged.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        try:
            self.wfile.write(payload)
        except OSError:
            self.close_connection = True  # the client gave up (timeout); nothing to do


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Scripted"


def _completion_body(request: dict[str, Any], replies: list[ScriptedReply]) -> dict[str, Any]:
    prompt_text = "".join(
        message.get("content") if isinstance(message.get("content"), str) else ""
        for message in request.get("messages") or []
        if isinstance(message, dict)
    )
    first = replies[0]
    prompt_tokens = (
        first.prompt_tokens if first.prompt_tokens is not None else estimate_tokens(prompt_text)
    )
    completion_tokens = sum(
        reply.completion_tokens
        if reply.completion_tokens is not None
        else estimate_tokens(reply.content or "")
        for reply in replies
    )
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "scripted"),
        "choices": [
            {
                "index": index,
                "message": {"role": "assistant", "content": reply.content},
                "finish_reason": reply.finish_reason,
            }
            for index, reply in enumerate(replies)
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }
