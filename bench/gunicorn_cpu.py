"""gunicorn configuration the load tests add (`gunicorn -c bench/gunicorn_cpu.py`): the CPU each
request costs its worker, by endpoint. Nothing here runs in production.

A sync worker serves one request at a time in one thread, so its process CPU time between
gunicorn's pre_request and post_request hooks is that request's: Django, the queries' client
side, the template, the response written to the socket (a streamed export included). What it
leaves out (parsing the request line and headers, the access log, the master process, a worker
starting after --max-requests) bench/load.py reports apart, as the whole server's CPU over
the requests it served.

Each worker appends one line per request to LOAD_CPU_DIR/cpu-<pid>.tsv:
    <start, epoch s> TAB <endpoint, as bench/locustfile.py names it> TAB <CPU ms> TAB <wall ms>
written with one unbuffered write, so a worker killed outright (bench/cluster.py) loses nothing.
"""

import os
import re
import time

# The locustfile's request names: numbers in the path become [id] ([n] for a chunk's index).
NUMBERS = re.compile(r"/\d+(?=/)")


def endpoint(method: str, path: str, query: str, htmx: bool) -> str:
    """'POST /enregistrements/[id]/morceaux/[n]/' for POST /enregistrements/12/morceaux/40/."""
    if path.startswith("/enregistrements/") and "/morceaux/" in path:
        name = "/enregistrements/[id]/morceaux/[n]/"
    else:
        name = NUMBERS.sub("/[id]", path)
    suffix = ""
    if method == "POST" and name == "/appels/[id]/remplir/":
        suffix = " (brouillon)"
    elif method == "GET" and name == "/dashboard/" and htmx:
        suffix = " (htmx)"
    elif name == "/export/telecharger/":
        suffix = " (xlsx, entreprises)" if "format=xlsx" in query else " (csv, appels)"
    return f"{method} {name}{suffix}"


_state = {"fd": None, "cpu": 0.0, "wall": 0.0, "start": 0.0}


def _fd() -> int:
    if _state["fd"] is None:
        folder = os.environ["LOAD_CPU_DIR"]
        path = os.path.join(folder, f"cpu-{os.getpid()}.tsv")
        _state["fd"] = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    return _state["fd"]


def pre_request(worker, req) -> None:
    _state["start"] = time.time()
    _state["wall"] = time.perf_counter()
    _state["cpu"] = time.process_time()


def post_request(worker, req, environ, resp) -> None:
    cpu_ms = 1000 * (time.process_time() - _state["cpu"])
    wall_ms = 1000 * (time.perf_counter() - _state["wall"])
    htmx = environ.get("HTTP_HX_REQUEST") == "true"
    name = endpoint(req.method, req.path, req.query or "", htmx)
    line = f"{_state['start']:.3f}\t{name}\t{cpu_ms:.3f}\t{wall_ms:.3f}\n"
    os.write(_fd(), line.encode())
