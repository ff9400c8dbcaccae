#!/usr/bin/python3
# A stand-in for memcached that renames itself the way setproctitle and uwsgi's procname can: it
# overwrites its whole argv and environment area, erasing the resource marker the agent gave it.
# Real memcached never does; this injects that fault. It answers "version" like memcached.
import signal
import socket
import sys


def erase_argv_and_environment(title: bytes) -> None:
    with open('/proc/self/stat', 'rb') as stat:
        fields = stat.read().rsplit(b')', 1)[1].split()
    # /proc/PID/stat fields 48-51: arg_start arg_end env_start env_end (fields from 3 on are here).
    arg_start, env_end = int(fields[45]), int(fields[48])
    area = env_end - arg_start
    with open('/proc/self/mem', 'r+b', buffering=0) as mem:
        mem.seek(arg_start)
        mem.write(title[: area - 1].ljust(area, b'\0'))


def main() -> None:
    args = sys.argv[1:]
    host = args[args.index('-l') + 1] if '-l' in args else '127.0.0.1'
    port = int(args[args.index('-p') + 1])
    server = socket.create_server((host, port))
    erase_argv_and_environment(b'renamed-daemon: serving')
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        conn, _ = server.accept()
        with conn:
            if conn.recv(1024).startswith(b'version'):
                conn.sendall(b'VERSION 0-renamed\r\n')


main()
