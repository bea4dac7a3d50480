"""API Gateway's rules for WebSocket frames, both ways.

AWS's quotas for WebSocket APIs
(https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-execution-service-websocket-limits-table.html):
a frame may carry 32 KB and a message 128 KB; "a message larger than 32 KB must be split into
multiple frames, each 32 KB or smaller. This applies to @connections commands. If a larger
message (or larger frame size) is received, the connection is closed with code 1009." A browser
sends every message as one frame, so on AWS a browser cannot send more than 32 KB.
Binary frames are refused unless binary media types are configured, which the package never
does: "If a client app sends a binary frame, API Gateway rejects it and disconnects the client
with code 1003"
(https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-develop-binary-media-types.html).

aiohttp limits only whole messages and exposes no per-frame hook, so the client side uses
aiohttp's pure-Python frame reader with one check added per frame; the Management API side
builds its fragments with the ``websockets`` library's frame encoder (aiohttp's writer always
sets FIN, so it cannot fragment).
"""

from aiohttp import WSCloseCode, WSMsgType, web
from aiohttp._websocket.reader_py import WebSocketDataQueue, WebSocketReader
from aiohttp.http_websocket import WebSocketError
from websockets.frames import Frame, Opcode

MAX_FRAME_BYTES = 32 * 1024
MAX_MESSAGE_BYTES = 128 * 1024
_DATA_OPCODES = frozenset({WSMsgType.TEXT, WSMsgType.BINARY, WSMsgType.CONTINUATION})


class _AwsFrameReader(WebSocketReader):
    """aiohttp's reader, refusing what API Gateway refuses before a message is assembled."""

    def _handle_frame(self, fin, opcode, payload, compressed) -> None:
        if opcode == WSMsgType.BINARY:
            raise WebSocketError(WSCloseCode.UNSUPPORTED_DATA, "binary frames are not supported")
        if opcode in _DATA_OPCODES and len(payload) > MAX_FRAME_BYTES:
            raise WebSocketError(
                WSCloseCode.MESSAGE_TOO_BIG,
                f"frame of {len(payload)} bytes exceeds {MAX_FRAME_BYTES}",
            )
        super()._handle_frame(fin, opcode, payload, compressed)


class AwsWebSocketResponse(web.WebSocketResponse):
    """A WebSocketResponse whose incoming frames follow API Gateway's rules. aiohttp itself
    refuses a message of ``max_msg_size`` bytes or more (1009), so the limit + 1 is passed."""

    def __init__(self, protocols: tuple[str, ...] = ()) -> None:
        # API Gateway negotiates no permessage-deflate; off also saves memory per socket.
        super().__init__(protocols=protocols, compress=False, max_msg_size=MAX_MESSAGE_BYTES + 1)

    def _post_start(self, request, protocol, writer) -> None:
        super()._post_start(request, protocol, writer)
        # Swap aiohttp's reader for ours before any frame arrives (the client waits for the
        # 101 that follows this): set_parser refuses to replace a parser, so unset it first.
        # The pure-Python reader needs the pure-Python queue.
        self._reader = WebSocketDataQueue(request._protocol, 2**16, loop=self._loop)
        self._parser = _AwsFrameReader(
            self._reader, self._max_msg_size, compress=False, decode_text=self._decode_text
        )
        request.protocol._payload_parser = None
        request.protocol.set_parser(self._parser, data_received_cb=None)


def encode_message(data: bytes, text: bool) -> bytes:
    """One message as API Gateway sends it: frames of at most 32 KB, the first carrying the
    type, the rest continuations, FIN on the last. Written in one piece, so two messages can
    never interleave their fragments."""
    chunks = [data[i : i + MAX_FRAME_BYTES] for i in range(0, len(data), MAX_FRAME_BYTES)] or [b""]
    frames = []
    for index, chunk in enumerate(chunks):
        first = Opcode.TEXT if text else Opcode.BINARY
        opcode = first if index == 0 else Opcode.CONT
        frames.append(Frame(opcode, chunk, fin=index == len(chunks) - 1).serialize(mask=False))
    return b"".join(frames)
