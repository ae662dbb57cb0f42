"""A Modbus TCP PLC for the tests: a real pymodbus server process (SimDevice).

Holding registers: 0 cycle counter (uint16, +1 every 0.1 s of uptime, from the start value
given), 10-11 temperature 21.5 as float32 (high word first), 20-21 the same 21.5 with the low
word first, 30 machine state (1 running), 40-41 a float32 NaN (a broken sensor). Coil 0: guard
closed. Only addresses 0-99 exist: reading 500 is refused with Modbus exception 2 (illegal
data address), as a real device refuses it.
Usage: python modbus_plc.py <port> [start count]
"""
import asyncio
import struct
import sys
import time

from pymodbus.constants import ExcCodes
from pymodbus.server import StartAsyncTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice


def words(value):
    return list(struct.unpack(">HH", struct.pack(">f", value)))


def registers():
    values = [0] * 100
    high, low = words(21.5)
    values[10:12] = [high, low]
    values[20:22] = [low, high]
    values[30] = 1
    values[40:42] = words(float("nan"))
    return values


async def main(port, start_count):
    started = time.monotonic()

    async def machine(function_code, start_address, address, count, current_registers,
                      set_values):
        if address + count > 100:
            return ExcCodes.ILLEGAL_ADDRESS
        # The PLC's cycle counter: what it is now, whenever it is read.
        if function_code == 3 and start_address <= 0 < start_address + len(current_registers):
            cycles = start_count + int((time.monotonic() - started) / 0.1)
            current_registers[0 - start_address] = cycles % 65536
        return None

    device = SimDevice(id=1, simdata=(
        [SimData(0, count=100, values=[True] + [False] * 99, datatype=DataType.BITS)],
        [SimData(0, count=100, values=False, datatype=DataType.BITS)],
        [SimData(0, count=100, values=registers(), datatype=DataType.REGISTERS)],
        [SimData(0, count=100, values=0, datatype=DataType.REGISTERS)]), action=machine)
    print("READY", flush=True)
    await StartAsyncTcpServer(context=device, address=("127.0.0.1", port))


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 0))
