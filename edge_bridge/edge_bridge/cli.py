"""``edge-bridge`` command line: run, check-config, status, dead-letter, simulate.

Exit codes: 0 ok, 1 runtime failure, 2 invalid configuration or usage.
"""
import argparse
import json
import logging
import sys
from datetime import datetime, timezone

from . import __version__
from .config import ConfigError, load_config
from .observability import setup_logging

EXIT_CONFIG = 2


def _iso(epoch):
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat() if epoch else None


def cmd_run(args, config):
    from .runtime import Bridge
    setup_logging(config.observability.log_format, config.observability.log_level)
    return Bridge(config).run_forever()


def cmd_check_config(args, config):
    print(f"configuration OK: device {config.device_code}, {len(config.assets)} assets, "
          f"{len(config.sources)} sources ({', '.join(s.name + ':' + s.type for s in config.sources)}), "
          f"sink {config.sink.protocol} {' | '.join(config.sink.urls)}")
    return 0


def cmd_status(args, config):
    from .runtime import open_outbox
    outbox = open_outbox(config)
    try:
        status = outbox.status()
    finally:
        outbox.close()
    status["oldest_pending_at"] = _iso(status["oldest_pending_at"])
    status["last_push_at"] = _iso(status["last_push_at"])
    print(json.dumps(status, indent=2))
    return 0


def cmd_dead_letter(args, config):
    from .runtime import open_outbox
    outbox = open_outbox(config)
    try:
        if args.action == "list":
            for row in outbox.dead_letters(args.limit):
                row["created_at"] = _iso(row["created_at"])
                if not args.with_body:
                    row.pop("body")
                print(json.dumps(row))
        else:
            moved = outbox.replay_dead_letters(args.id or None)
            print(f"{moved} dead letters moved back to pending")
    finally:
        outbox.close()
    return 0


def cmd_simulate(args):
    from .simulator.run import main as simulate_main
    return simulate_main(args)


def build_parser():
    parser = argparse.ArgumentParser(prog="edge-bridge", description="Shop-floor edge bridge into Odoo")
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, helptext in (("run", "run the bridge"), ("check-config", "validate the configuration"),
                           ("status", "buffer depth, oldest pending, last push, rejected count")):
        sub = commands.add_parser(name, help=helptext)
        sub.add_argument("-c", "--config", required=True)
    dead = commands.add_parser("dead-letter", help="list or replay dead letters")
    dead.add_argument("action", choices=("list", "replay"))
    dead.add_argument("-c", "--config", required=True)
    dead.add_argument("--limit", type=int, default=100)
    dead.add_argument("--with-body", action="store_true")
    dead.add_argument("--id", type=int, action="append", help="replay only these dead-letter ids")
    from .simulator.run import add_arguments
    add_arguments(commands.add_parser("simulate", help="PLC (OPC UA) + MES (MQTT) simulator"))
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "simulate":
        return cmd_simulate(args)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"edge-bridge: invalid configuration: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    handler = {"run": cmd_run, "check-config": cmd_check_config, "status": cmd_status,
               "dead-letter": cmd_dead_letter}[args.command]
    try:
        return handler(args, config)
    except KeyboardInterrupt:
        return 1
    except Exception as exc:
        logging.getLogger("edge_bridge").exception("edge-bridge failed")
        print(f"edge-bridge: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
