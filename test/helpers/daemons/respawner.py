#!/usr/bin/python3
# Processes of a resource that keep appearing whatever stop kills: run as root with the resource's
# marker in its environment, a spawner forks a child every 10 ms (stop, which looks every 100 ms,
# always finds new ones; at 20 ms a loaded machine's look once found none: every child killed, the
# next not yet the service user's, and stop said 0) that leads a session of its own as the service
# user (uid, gid given as arguments): program (python3), owner, marker and session all say it is the resource's, and the
# spawner, root's, is not. Each child sleeps 10 s (about 1000 live at once); the spawner stops after
# 15 s. One spawner, not three: three made the machine itself the bottleneck (the agent, starved of
# CPU on two cores beside the other test files, overran its deadline by 2 s). Injected fault: no real
# daemon does this (a respawning supervisor of the service user would look like it).
import os
import signal
import sys
import time

uid, gid = int(sys.argv[1]), int(sys.argv[2])
signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
until = time.monotonic() + 15
while time.monotonic() < until:
    if os.fork() == 0:
        os.setsid()
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
        time.sleep(10)
        os._exit(0)
    time.sleep(0.01)
