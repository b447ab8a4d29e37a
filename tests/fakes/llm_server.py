"""A real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions and embeddings
protocol and the Anthropic messages protocol, with scripted faults.

    with FakeLLMServer() as server:
        server.script("chat", Reply(status=429, headers={"Retry-After": "0.05"}), Reply(text="..."))
        OpenAIProvider(model="gpt-4o-mini", api_key="k", base_url=server.openai_base_url)

Used by the tests and by bench/panels.py (fixed latency per answer). `down()` and `up()`
take the endpoint away and bring it back on the same port (an outage: connections are
refused meanwhile).
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    status: int = 200
    text: str | None = None  # None: the default answer for this request
    headers: dict = field(default_factory=dict)
    delay_s: float = 0.0
    body: str | None = None  # a raw body instead of the protocol's JSON


def default_expert_answer(prompt: str) -> str:
    """A valid structured expert answer derived from the prompt (a stand-in model)."""
    digest = int(hashlib.sha256(prompt.encode()).hexdigest()[:8], 16)
    stance = ("support", "oppose", "neutral")[digest % 3]
    cited = re.findall(r"^\[([^\]\s]+)\] ", prompt, flags=re.MULTILINE)[:1]
    estimate = round(0.3 + (digest % 40) / 100, 2)
    return json.dumps({
        "statement": f"Fake model answer ({stance}) to the question." + (f" See [{cited[0]}]." if cited else ""),
        "position": f"A {stance} position from the fake endpoint.",
        "stance": stance,
        "confidence": 0.7,
        "key_points": ["fake point one", "fake point two"],
        "citations": cited,
        "estimate": estimate,
        "action": {"support": "proceed", "oppose": "caution", "neutral": "investigate"}[stance],
    })


def fake_embedding(text: str, dimensions: int) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    return [((digest[i % len(digest)] / 255.0) - 0.5) for i in range(dimensions)]


class FakeLLMServer:
    def __init__(self, *, latency_s: float = 0.0, embedding_dimensions: int = 384):
        self.latency_s = latency_s
        self.embedding_dimensions = embedding_dimensions
        self.requests: list[dict] = []
        self._scripts: dict[str, deque] = {"chat": deque(), "messages": deque(), "embeddings": deque()}
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._bind(0)

    def _bind(self, port: int) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())  # SO_REUSEADDR: same port again
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.serving = False

    # --- control ---------------------------------------------------------------
    def __enter__(self):
        self._thread.start()
        self.serving = True
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        if self.serving:
            self._server.shutdown()
            self._server.server_close()
            self.serving = False
            with self._lock:  # kept-alive connections too: a stopped endpoint answers nothing
                open_connections, self._connections = self._connections, set()
            for sock in open_connections:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def down(self) -> None:
        """The endpoint goes away: nothing listens on its port (connections are refused)."""
        self.stop()

    def up(self) -> None:
        """The endpoint is back, on the same port (clients keep their base URL)."""
        if not self.serving:
            self._bind(self.port)
            self.__enter__()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def openai_base_url(self) -> str:
        return self.url + "/v1"

    @property
    def anthropic_base_url(self) -> str:
        return self.url

    def script(self, route: str, *replies: Reply) -> None:
        """Queue replies for a route (chat | messages | embeddings); then defaults resume."""
        with self._lock:
            self._scripts[route].extend(replies)

    def count(self, route: str) -> int:
        return sum(1 for r in self.requests if r["route"] == route)

    # --- serving -------------------------------------------------------------------
    def _next(self, route: str) -> Reply:
        with self._lock:
            return self._scripts[route].popleft() if self._scripts[route] else Reply()

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes; with Nagle's algorithm the body
            # waits for the client's delayed ACK (~40 ms on Linux), which a real endpoint
            # does not add. The latency must be the configured one.
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def setup(self):
                super().setup()
                with server._lock:
                    server._connections.add(self.connection)

            def finish(self):
                with server._lock:
                    server._connections.discard(self.connection)
                super().finish()

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                payload = json.loads(self.rfile.read(length) or b"{}")
                route = {"/v1/chat/completions": "chat", "/v1/messages": "messages",
                         "/v1/embeddings": "embeddings"}.get(self.path.split("?")[0])
                if route is None:
                    return self._send(404, {"error": {"message": f"no route {self.path}"}})
                with server._lock:
                    server.requests.append({"route": route, "payload": payload,
                                            "headers": {k.lower(): v for k, v in self.headers.items()}, "at": time.monotonic()})
                reply = server._next(route)
                time.sleep(server.latency_s + reply.delay_s)
                if reply.status != 200:
                    body = reply.body if reply.body is not None else {"error": {"message": f"scripted {reply.status}",
                                                                              "type": "server_error"}}
                    return self._send(reply.status, body, reply.headers)
                if reply.body is not None:
                    return self._send(200, reply.body, reply.headers)
                return self._send(200, getattr(self, f"_answer_{route}")(payload, reply), reply.headers)

            def _prompt(self, payload) -> str:
                parts = [payload.get("system") or ""]
                for message in payload.get("messages", []):
                    content = message.get("content")
                    parts.append(content if isinstance(content, str) else json.dumps(content))
                return "\n".join(parts)

            def _answer_chat(self, payload, reply):
                prompt = self._prompt(payload)
                text = reply.text if reply.text is not None else default_expert_answer(prompt)
                prompt_tokens, completion_tokens = max(1, len(prompt) // 4), max(1, len(text) // 4)
                return {
                    "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
                    "model": payload.get("model"),
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                 "finish_reason": "stop", "logprobs": None}],
                    "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                              "total_tokens": prompt_tokens + completion_tokens},
                }

            def _answer_messages(self, payload, reply):
                prompt = self._prompt(payload)
                text = reply.text if reply.text is not None else default_expert_answer(prompt)
                return {
                    "id": "msg_fake", "type": "message", "role": "assistant", "model": payload.get("model"),
                    "content": [{"type": "text", "text": text}], "stop_reason": "end_turn", "stop_sequence": None,
                    "usage": {"input_tokens": max(1, len(prompt) // 4), "output_tokens": max(1, len(text) // 4)},
                }

            def _answer_embeddings(self, payload, reply):
                inputs = payload.get("input")
                inputs = [inputs] if isinstance(inputs, str) else inputs
                dimensions = server.embedding_dimensions
                return {
                    "object": "list", "model": payload.get("model"),
                    "data": [{"object": "embedding", "index": i, "embedding": fake_embedding(t, dimensions)}
                             for i, t in enumerate(inputs)],
                    "usage": {"prompt_tokens": 1, "total_tokens": 1},
                }

            def _send(self, status, body, headers=None):
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                try:  # the client may be gone (it timed out, or the endpoint went down meanwhile)
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

        return Handler
