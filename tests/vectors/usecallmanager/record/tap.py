# Runs a Python program with its TLS sockets' plaintext logged (JSON lines to $TAP_LOG):
# {"conn": n, "dir": "in"|"out", "hex": ...}. Nothing of the program is changed or copied.
import json, os, runpy, ssl, sys, threading
LOG = os.environ["TAP_LOG"]
lock = threading.Lock()
ids = {}
def note(sock, d, data):
    if not data:
        return
    with lock:
        n = ids.setdefault(id(sock), len(ids) + 1)
        with open(LOG, "a") as f:
            f.write(json.dumps({"conn": n, "dir": d, "hex": bytes(data).hex()}) + "\n")
S = ssl.SSLSocket
orig_recv, orig_sendall, orig_send, orig_read, orig_write, orig_recv_into = S.recv, S.sendall, S.send, S.read, S.write, S.recv_into
def recv(self, *a, **k):
    d = orig_recv(self, *a, **k); note(self, "in", d); return d
def recv_into(self, buf, nbytes=0, flags=0):
    n = orig_recv_into(self, buf, nbytes, flags); note(self, "in", bytes(buf[:n])); return n
def sendall(self, data, *a):
    note(self, "out", data); return orig_sendall(self, data, *a)
def send(self, data, *a):
    n = orig_send(self, data, *a); note(self, "out", data[:n]); return n
def read(self, length=1024, buffer=None):
    if buffer is None:
        d = orig_read(self, length); note(self, "in", d); return d
    n = orig_read(self, length, buffer); note(self, "in", bytes(buffer[:n])); return n
def write(self, data):
    n = orig_write(self, data); note(self, "out", data[:n]); return n
S.send, S.read, S.write = send, read, write
script = sys.argv[1]
sys.argv = sys.argv[1:]
runpy.run_path(script, run_name="__main__")
