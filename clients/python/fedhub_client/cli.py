"""``python3 -m fedhub_client`` / ``fedhub-participant``: the Python participant's command line.

Commands: ``download``, ``train``, ``upload``, ``run --rounds N``, ``evaluate``; each has ``--help``.
Exit status: 0 done, 1 refused or failed (the error's code is printed, e.g. ``stale``), 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import List, Optional

from .errors import FedhubError, HubError

EPILOG = (
    "Commands that talk to the hub take --hub http://HOST:PORT or https://HOST:PORT (the hub's HTTP door, fl-hub "
    "--http-port; https with --ca-file, and --cert/--cert-key for mutual TLS) and "
    "--key KEY (or the environment variable FEDHUB_KEY). Data sources (SPEC): idx:PREFIX[:CLASSES], "
    "folder:DIR[:CLASSES] (docs/models.md); --data-labels FILE names the classes of an IDX source."
)


def _hub_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--hub", default=os.environ.get("FEDHUB_HUB", "http://127.0.0.1:8080"),
                   help="the hub's HTTP door, e.g. http://127.0.0.1:8080 (default: $FEDHUB_HUB or that)")
    p.add_argument("--key", default=None, help="API key (default: --key-file, else $FEDHUB_KEY)")
    p.add_argument("--key-file", default=None, metavar="FILE", help="a file holding the API key")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for an answer (default 60)")
    p.add_argument("--ca-file", default=None, metavar="FILE",
                   help="https: the CA file that signed the hub's certificate (fl-hub init-tls: DIR/ca.pem; "
                   "default: $FEDHUB_CA_FILE, else the system's CAs)")
    p.add_argument("--cert", default=None, metavar="FILE",
                   help="https, mutual TLS: this client's certificate (DIR/clients/NAME.pem)")
    p.add_argument("--cert-key", default=None, metavar="FILE", help="mutual TLS: its private key (DIR/clients/NAME.key)")


def _data_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", action="append", required=True, metavar="SPEC",
                   help="local data source (repeat to join several)")
    p.add_argument("--data-labels", default=None, metavar="FILE", help="class names of an index-labelled source")


def _train_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, default=None, help="training seed (default: the recipe's, else random)")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    p.add_argument("--participant", default="", help="the name written into results (the hub records the key's)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fedhub-participant",
        description="A fedhub participant in Python: download a model over the hub's HTTP door, train it with "
        "PyTorch, upload the result.",
        epilog=EPILOG,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    p = sub.add_parser("download", help="save a model package", epilog=EPILOG)
    _hub_options(p)
    p.add_argument("--model", required=True, help="model name")
    p.add_argument("--version", default="current", help="version to download (default: current)")
    p.add_argument("--out", required=True, help="the package file to write")
    p = sub.add_parser("train", help="train one round offline with the model's recipe", epilog=EPILOG)
    p.add_argument("--in", dest="input", required=True, help="model package file")
    _data_options(p)
    _train_options(p)
    p.add_argument("--out", required=True, help="the contribution file to write")
    p = sub.add_parser("upload", help="send a training result (a contribution file)", epilog=EPILOG)
    _hub_options(p)
    p.add_argument("--weights", required=True, help="contribution file to upload")
    p.add_argument("--model", default=None, help="refuse the upload unless the file is for this model")
    p = sub.add_parser("run", help="download, train, upload; wait for the next version and repeat", epilog=EPILOG)
    _hub_options(p)
    p.add_argument("--model", required=True, help="model name")
    _data_options(p)
    _train_options(p)
    p.add_argument("--rounds", type=int, required=True, help="results to contribute")
    p.add_argument("--wait", type=float, default=3600.0,
                   help="seconds to wait for each next version before giving up (default 3600)")
    p = sub.add_parser("evaluate", help="accuracy of a model package on local data", epilog=EPILOG)
    p.add_argument("--in", dest="input", required=True, help="model package file")
    _data_options(p)
    for p in sub.choices.values():
        p.add_argument("--json", action="store_true", help="print results as JSON")
        p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return parser


def _say(args, text: str, doc: dict) -> None:
    print(json.dumps(doc) if args.json else text, flush=True)


def _note(args, text: str) -> None:
    if not args.quiet:
        print(text, file=sys.stderr, flush=True)


def _client(args):
    from .http_client import HubClient

    key = args.key
    if not key and args.key_file:
        try:
            with open(args.key_file) as f:
                key = f.read().strip()
        except OSError as e:
            raise FedhubError(f"cannot read the key file '{args.key_file}': {e.strerror}") from None
    ca_file = args.ca_file
    if not ca_file and args.hub.startswith("https://"):  # $FEDHUB_CA_FILE only for https hubs
        ca_file = os.environ.get("FEDHUB_CA_FILE") or None
    return HubClient(args.hub, key or os.environ.get("FEDHUB_KEY", ""), timeout=args.timeout, ca_file=ca_file,
                     cert_file=args.cert, key_file=args.cert_key)


def _progress(args, version: int):
    if args.quiet or args.json:
        return None
    start = time.monotonic()

    def report(step: int, steps: int, loss: float) -> None:
        end = "\n" if step == steps or not sys.stderr.isatty() else ""
        if step == steps or sys.stderr.isatty():
            rate = step / max(time.monotonic() - start, 1e-9)
            print(f"\rtraining version {version}: step {step}/{steps} loss {loss:.4f} ({rate:.1f} steps/s)",
                  end=end, file=sys.stderr, flush=True)

    return report


def cmd_download(args) -> int:
    from .package import read_model_package

    data, _ = _client(args).download_package(args.model, args.version)
    package = read_model_package(data, what=f"the package of '{args.model}'")
    tmp = args.out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, args.out)
    _say(args, f"saved version {package.version} of '{package.name}' to {args.out}",
         {"model": package.name, "version": package.version, "file": args.out})
    return 0


def _train(args, package, data, round_index: int):
    from .participant import round_seed, train_package

    return train_package(package, data, round_seed(package, args.seed, round_index), args.participant,
                         _progress(args, package.version), args.threads)


def cmd_train(args) -> int:
    from .package import load_model_package
    from .participant import load_data_for

    package = load_model_package(args.input)
    data = load_data_for(package, args.data, args.data_labels)
    _note(args, f"loaded {len(data)} samples from {', '.join(args.data)}")
    result = _train(args, package, data, 0)
    with open(args.out, "wb") as f:
        f.write(result.contribution)
    _say(args, f"trained version {package.version} of '{package.name}' on {result.num_samples} samples "
         f"(loss {result.loss:.4f}, accuracy {result.accuracy:.4f}); result in {args.out}",
         {"model": package.name, "base_version": package.version, "num_samples": result.num_samples,
          "loss": result.loss, "accuracy": result.accuracy})
    return 0


def _print_receipt(args, r: dict) -> None:
    _say(args, f"uploaded to version {r['base_version']} of '{r['model']}' as '{r['participant']}' "
         f"({r['contributions']} contribution(s) for that version)", r)


def cmd_upload(args) -> int:
    from .contribution import read_contribution

    client = _client(args)  # a missing key is named before the file is read
    try:
        with open(args.weights, "rb") as f:
            data = f.read()
    except OSError as e:
        raise FedhubError(f"cannot read the training result '{args.weights}': {e.strerror}") from None
    c = read_contribution(data, what=args.weights)
    if args.model and c.model != args.model:
        raise HubError("bad_contribution", f"the file holds a result for model '{c.model}', not '{args.model}'")
    _print_receipt(args, client.upload(c.model, data))
    return 0


def cmd_evaluate(args) -> int:
    from .architecture import parse_architecture
    from .package import load_model_package
    from .participant import load_data_for
    from .training import evaluate

    package = load_model_package(args.input)
    data = load_data_for(package, args.data, args.data_labels)
    e = evaluate(parse_architecture(package.architecture), package.weights, data)
    _say(args, f"model '{package.name}' version {package.version}: accuracy {e['accuracy']:.4f}  loss {e['loss']:.4f}"
         f"  on {e['samples']} samples", dict(e, model=package.name, version=package.version))
    return 0


def _wait_for_newer(args, stream, version: int) -> None:
    deadline = time.monotonic() + args.wait
    _note(args, f"waiting for a version after {version} of '{args.model}' (a merge: fl-manager merge {args.model}, "
          f"or a merge policy that merges by itself)")
    while True:
        event = stream.next_event(deadline)
        if event is None:
            raise HubError("timeout", f"no version after {version} of '{args.model}' came within {args.wait:g} s "
                           "(--wait): has a manager merged?")
        if event.type == "version" and int(event.data.get("version", -1)) > version:
            return


def cmd_run(args) -> int:
    from .package import read_model_package
    from .participant import load_data_for

    if args.rounds < 1:
        raise FedhubError("--rounds must be at least 1")
    client = _client(args)
    data, done, contributed = None, 0, set()
    # read_timeout: the hub writes a keep-alive every 15 s, so a silent minute is a dead stream.
    with client.events(args.model, read_timeout=max(60.0, args.timeout)) as stream:
        stream.wait_subscribed()  # before the download: no version is missed
        while done < args.rounds:
            raw, _ = client.download_package(args.model)
            package = read_model_package(raw, what=f"the package of '{args.model}'")
            if data is None:
                data = load_data_for(package, args.data, args.data_labels)
                _note(args, f"loaded {len(data)} samples from {', '.join(args.data)}")
            if package.version not in contributed:
                result = _train(args, package, data, done)
                try:
                    _print_receipt(args, client.upload(package.name, result.contribution))
                    done += 1
                except HubError as e:
                    if e.code == "stale":
                        _note(args, f"version {package.version} was merged while training; starting again on the new one")
                        continue
                    if e.code != "duplicate":
                        raise
                    _note(args, f"this key has contributed to version {package.version} already")
                contributed.add(package.version)
                if done >= args.rounds:
                    break
            _wait_for_newer(args, stream, package.version)
    if not args.json:
        print(f"contributed {done} round(s) to '{args.model}'")
    return 0


COMMANDS = {"download": cmd_download, "train": cmd_train, "upload": cmd_upload, "run": cmd_run,
            "evaluate": cmd_evaluate}


def main(argv: Optional[List[str]] = None) -> int:
    """Runs one command; errors are printed as ``fedhub-participant: error: CODE: message``."""
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except HubError as e:
        print(f"fedhub-participant: error: {e.code}: {e.message}", file=sys.stderr)
    except FedhubError as e:
        print(f"fedhub-participant: error: {e}", file=sys.stderr)
    except ImportError as e:
        print(f"fedhub-participant: error: {e} (training needs PyTorch: apt-get install python3-torch)", file=sys.stderr)
    except KeyboardInterrupt:
        print("fedhub-participant: interrupted", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
