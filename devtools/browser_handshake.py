"""What a browser always sends in a WebSocket handshake that scripted clients may leave out.

Chromium offers permessage-deflate on every connection, and API Gateway passes the client's
``Sec-WebSocket-Extensions`` on to ``$connect``, where the package refuses a call without one.
Test and benchmark clients that stand in for browsers send the same offer with compression
off (the gateway negotiates none), so they reach Django as a browser does.
"""

EXTENSIONS_HEADER = "Sec-WebSocket-Extensions"
CHROMIUM_EXTENSIONS = "permessage-deflate; client_max_window_bits"
