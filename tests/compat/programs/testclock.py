# SPDX-License-Identifier: MIT
# The test driver's counters that follow the clock (libvirt's
# src/test/test_driver.c: interface and block statistics, CPU times are the
# time of the call in microseconds, multiplied or divided by a constant):
# shown as the function of the sample's time they match, so that two runs
# compare.
import re

# VALUE = TIME_US * NUM / DEN
CLOCK = [(1000, 1), (1, 10), (1, 20), (1, 30), (1, 40), (1, 100), (1, 110), (1, 1000000), (1, 2000000),
         (1, 3000000), (1, 4000000)]
# how far the driver's clock may be from the sample's time (seconds)
SLACK = 5


def clock_name(value, epoch):
    """"t*N" or "t/N" when VALUE (a string) is the clock at EPOCH (seconds)
    within SLACK, else None. Values of 6 digits or fewer are never the
    clock."""
    v = value.strip()
    if not re.fullmatch(r"-?[0-9.]+(e[+-]?[0-9]+)?", v):
        return None
    try:
        x = int(v) if re.fullmatch(r"-?\d+", v) else float(v)
    except ValueError:
        return None
    if abs(x) < 1e6:
        return None
    t_us = int(epoch * 1000000)
    for num, den in CLOCK:
        if abs(x * den - t_us * num) <= SLACK * 1000000 * num + 2 * den:
            return "t*%d" % num if den == 1 else "t/%d" % den
    return None
