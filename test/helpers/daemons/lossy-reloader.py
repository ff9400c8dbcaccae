#!/usr/bin/python3
# A master that loses its first reload, as cotyledon 1.7.3 on Python 3.13 does now and then (the
# worker reads its files again but never gets the SIGTERM it sent itself, and runs on): the first
# SIGHUP is only logged; every later one ends the worker and forks a new one, as cotyledon's master
# does. Injected fault: the real daemon loses it about 1 reload in 10, never on demand.
import os
import signal
import sys
import time

hangups = 0


def fork_worker():
    pid = os.fork()
    if pid == 0:
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        while True:
            time.sleep(60)
    return pid


def on_hangup(_signum, _frame):
    global hangups, worker
    hangups += 1
    if hangups == 1:
        print(f'SIGHUP {hangups}: lost', flush=True)
        return
    os.kill(worker, signal.SIGTERM)
    worker = fork_worker()
    print(f'SIGHUP {hangups}: new worker {worker}', flush=True)


signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # ended workers are reaped by the kernel
worker = fork_worker()
print(f'master {os.getpid()}: worker {worker}', flush=True)
signal.signal(signal.SIGHUP, on_hangup)
signal.signal(signal.SIGTERM, lambda *_: (os.kill(worker, signal.SIGTERM), sys.exit(0)))
while True:
    time.sleep(60)
