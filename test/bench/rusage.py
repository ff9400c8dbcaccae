# Runs one command under GNU time (peak RSS of its largest process) and reports the wall and CPU
# time of the whole tree in microseconds: GNU time prints CPU in hundredths of a second only, and
# wait4's rusage here includes the command and every descendant reaped under it.
import os
import sys
import time

started = time.monotonic_ns()
pid = os.posix_spawn('/usr/bin/time', ['/usr/bin/time', '-f', 'rss=%M', *sys.argv[1:]], os.environ)
_, status, usage = os.wait4(pid, 0)
wall_us = (time.monotonic_ns() - started) // 1000
cpu_us = round((usage.ru_utime + usage.ru_stime) * 1_000_000)
sys.stderr.write(f'wall_us={wall_us} cpu_us={cpu_us}\n')
sys.exit(os.waitstatus_to_exitcode(status))
