"""``python -m ops.cluster start [--env KEY=VALUE ...] | stop | status``: what ``make cluster``
and ``make cluster-stop`` run."""

import sys

from ops.cluster import layout, topology


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "status"
    if command == "start":
        extra = dict(
            value.split("=", 1) for flag, value in zip(argv[1::2], argv[2::2], strict=False)
            if flag == "--env" and "=" in value
        )  # fmt: skip
        try:
            cluster = layout.create(extra_env=extra)
        except Exception as exc:
            print(f"cluster: {exc}", file=sys.stderr)
            topology.stop()
            return 1
        print("cluster: running\n" + topology.addresses(cluster))
        print("stop it with: make cluster-stop")
        return 0
    if command == "stop":
        stopped = topology.stop()
        print("cluster: stopped " + (", ".join(stopped) if stopped else "nothing (none running)"))
        return 0
    if command == "status":
        cluster = topology.Cluster()
        if not cluster.services:
            print("cluster: none laid out (make cluster)")
            return 1
        for name, svc in cluster.services.items():
            state = "running" if cluster.alive(name) else "stopped"
            print(f"  {name:<18} {state:<8} pid {svc.pid}  port {svc.port}")
        return 0
    print(
        "usage: python -m ops.cluster start [--env KEY=VALUE ...] | stop | status", file=sys.stderr
    )
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
