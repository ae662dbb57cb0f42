"""A Siemens S7 CPU for the tests: python-snap7's own server emulator (pure Python, ISO-on-TCP /
S7comm) in a process of its own.

DB1 (100 bytes, non-optimized): DBW0 cycle counter (word, +1 every 0.1 s of uptime, from the
start value given), DBD10 temperature 21.5 (real), DBX20.0 guard closed, DBW22 machine state
(int, 1 = running), DBD30 a real NaN (a broken sensor), DBB40 order number as an S7 STRING[20]
"MO/42". No DB2: a read of it is refused by the CPU, as a real one refuses an unknown block.
Usage: python s7_plc.py <port> [start count]
"""
import struct
import sys
import threading
import time

from snap7.server import Server
from snap7.type import SrvArea


def data_block():
    db = bytearray(100)
    struct.pack_into(">f", db, 10, 21.5)
    db[20] = 0b0000_0001
    struct.pack_into(">h", db, 22, 1)
    struct.pack_into(">f", db, 30, float("nan"))
    text = b"MO/42"
    db[40], db[41] = 20, len(text)
    db[42:42 + len(text)] = text
    return db


def main(port, start_count):
    db1 = data_block()
    server = Server(log=False)
    server.register_area(SrvArea.DB, 1, db1)
    server.start(tcp_port=port)
    started = time.monotonic()

    def machine():          # the PLC program: counts cycles
        while True:
            cycles = start_count + int((time.monotonic() - started) / 0.1)
            struct.pack_into(">H", db1, 0, cycles % 65536)
            time.sleep(0.02)
    threading.Thread(target=machine, daemon=True).start()
    print("READY", flush=True)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 0)
