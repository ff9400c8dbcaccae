#!/usr/bin/python3
# A stand-in daemon whose processes keep forking: every process forks a child every 10 ms (as
# far as RLIMIT_NPROC lets it) and exits after 20 s on its own. A stop that SIGKILLs what it found
# always finds more: it fails, and its reason would list hundreds of pids. Injected fault; no real
# daemon does this.
import os
import time

deadline = time.monotonic() + 20
while time.monotonic() < deadline:
    time.sleep(0.01)
    try:
        if os.fork() == 0:
            deadline = time.monotonic() + 20
    except OSError:
        pass
os._exit(0)
