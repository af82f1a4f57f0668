# Sends one TVS request (hex) over TLS to HOST:PORT and prints the answer's hex ("" if none).
import socket, ssl, sys
host, port, req = sys.argv[1], int(sys.argv[2]), bytes.fromhex(sys.argv[3])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection((host, port), timeout=5))
s.sendall(req)
out = b""
try:
    while True:
        d = s.recv(65536)
        if not d: break
        out += d
        if len(out) >= 10 and len(out) >= 10 + int.from_bytes(out[8:10], "big"): break
except (ssl.SSLError, OSError):
    pass
print(out.hex())
