"""Trusted reference peers: the other end of the submitted program's connection.

Peers are threads of the grader, created inside the check's network namespace: outside
the sandbox's pid namespace, so a submission can neither see nor kill them, nor forge
what they observed (base.py). Servers (servers.py) listen before the program runs;
clients (clients.py) act once the submitted server listens. Every peer is chosen and
parameterised by the spec.
"""

from __future__ import annotations

from typing import Any

from app.grading.peers.base import Peer
from app.grading.peers.clients import TcpClient, UdpClient
from app.grading.peers.servers import (
    NothingListening,
    PushServer,
    ResetServer,
    SilentTcpServer,
    SilentUdpServer,
    SinkServer,
    TcpEchoServer,
    UdpAckServer,
)

__all__ = ["CATALOG", "Peer", "make_peer"]

CATALOG: dict[str, type[Peer]] = {
    cls.kind: cls
    for cls in (
        NothingListening,
        TcpEchoServer,
        SilentTcpServer,
        SilentUdpServer,
        SinkServer,
        ResetServer,
        PushServer,
        UdpAckServer,
        TcpClient,
        UdpClient,
    )
}


def make_peer(config: dict[str, Any], port: int) -> Peer:
    params = {k: v for k, v in config.items() if k != "kind"}
    return CATALOG[config["kind"]](port, **params)
