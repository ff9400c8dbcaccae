#!/usr/bin/python3
# Processes of a resource that keep appearing whatever stop kills: run as root with the resource's
# marker in its environment, three spawners (one process group) each fork a child every 20 ms (there
# is never a moment without one) that leads a session of their
# own as the service user (uid, gid given as arguments): program (python3), owner, marker and session
# all say they are the resource's, and the spawner, root's, is not. Each child sleeps 10 s; the
# spawners stop after 15 s. Injected fault: no real daemon does this (a respawning supervisor of the
# service user would look like it).
import os
import signal
import sys
import time

uid, gid = int(sys.argv[1]), int(sys.argv[2])
signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
until = time.monotonic() + 15
for _ in range(2):
    if os.fork() == 0:
        break
while time.monotonic() < until:
    if os.fork() == 0:
        os.setsid()
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
        time.sleep(10)
        os._exit(0)
    time.sleep(0.02)
