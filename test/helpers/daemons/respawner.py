#!/usr/bin/python3
# Processes of a resource that keep appearing whatever stop kills: run as root with the resource's
# marker in its environment, a spawner forks a child every 20 ms (stop, which looks every 100 ms,
# always finds new ones) that leads a session of its own as the service user (uid, gid given as
# arguments): program (python3), owner, marker and session all say it is the resource's, and the
# spawner, root's, is not. Each child sleeps 10 s (about 500 live at once); the spawner stops after
# 40 s (the test kills it sooner; 15 s may be over while a slow machine's stop still runs, and a
# stop that then finds none says 0). One spawner, not three: three made the machine itself the
# bottleneck (the agent, starved of CPU on two cores beside the other test files, overran its
# deadline by 2 s). Injected fault: no real daemon does this (a respawning supervisor of the
# service user would look like it).
import os
import signal
import sys
import time

uid, gid = int(sys.argv[1]), int(sys.argv[2])
signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
until = time.monotonic() + 40
while time.monotonic() < until:
    if os.fork() == 0:
        os.setsid()
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
        time.sleep(10)
        os._exit(0)
    time.sleep(0.02)
