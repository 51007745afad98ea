#!/usr/bin/env python3
"""fault_proxy.py: a TCP proxy on loopback that misbehaves on command, for the
link fault tests. It forwards LISTEN_PORT to TARGET_PORT on 127.0.0.1 and
takes one-word commands, one per line, on CONTROL_PORT (the answer is "ok"):

  pass     forward everything (new and held connections resume)
  freeze   hold all traffic both ways on every connection, accept new ones but
           forward nothing (a frozen link: TCP stays up, nothing moves)
  holdold  keep the connections open now frozen for ever; new ones pass
           (half-open peers the heartbeat must detect)
  cut      close every connection at once and refuse new ones until "pass"
  stats    answers "conns=N held=N bytes=N" instead of "ok"

usage: fault_proxy.py LISTEN_PORT TARGET_PORT CONTROL_PORT
It exits by itself after MAX_LIFE_S (600) seconds so a lost test cannot leak it."""
import asyncio
import socket
import struct
import sys

MAX_LIFE_S = 600
CHUNK = 65536


class Proxy:
    def __init__(self, target_port):
        self.target_port = target_port
        self.mode = "pass"
        self.conns = set()        # live connections: (client writer, server writer, gate)
        self.bytes = 0

    def gate_for_new(self):
        gate = asyncio.Event()
        if self.mode in ("pass", "holdold"):
            gate.set()
        return gate

    async def pump(self, reader, writer, gate):
        try:
            while True:
                data = await reader.read(CHUNK)
                if not data:
                    break
                await gate.wait()          # frozen: hold the bytes here
                writer.write(data)
                self.bytes += len(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def client(self, creader, cwriter):
        if self.mode == "cut":
            cwriter.close()
            return
        try:
            sreader, swriter = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            cwriter.close()
            return
        gate = self.gate_for_new()
        conn = (cwriter, swriter, gate)
        self.conns.add(conn)
        await asyncio.gather(self.pump(creader, swriter, gate), self.pump(sreader, cwriter, gate))
        self.conns.discard(conn)

    def command(self, word):
        if word == "stats":
            held = sum(1 for c in self.conns if not c[2].is_set())
            return f"conns={len(self.conns)} held={held} bytes={self.bytes}"
        if word == "pass":
            for _, _, gate in self.conns:
                gate.set()
        elif word == "freeze":
            for _, _, gate in self.conns:
                gate.clear()
        elif word == "holdold":
            for _, _, gate in self.conns:
                gate.clear()
        elif word == "cut":
            for cw, sw, gate in list(self.conns):
                for w in (cw, sw):
                    sock = w.get_extra_info("socket")
                    if sock is not None:   # RST, not FIN: the peer sees a reset link
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    w.close()
                gate.set()
            self.conns.clear()
        else:
            return f"unknown command {word!r}: pass, freeze, holdold, cut or stats"
        self.mode = word
        return "ok"

    async def control(self, reader, writer):
        line = (await reader.readline()).decode().strip()
        writer.write((self.command(line) + "\n").encode())
        await writer.drain()
        writer.close()


async def main():
    listen, target, control = (int(a) for a in sys.argv[1:4])
    p = Proxy(target)
    await asyncio.start_server(p.client, "127.0.0.1", listen)
    await asyncio.start_server(p.control, "127.0.0.1", control)
    await asyncio.sleep(MAX_LIFE_S)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    asyncio.run(main())
