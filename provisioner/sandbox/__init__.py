"""A fake B2B Edition Management API on loopback, for tests, demos and dry runs.

The sandbox serves the endpoints the provisioner uses under ``/api/v3/io``, from a
seed of Companies, roles, channels, extra fields, users and customers, with the
status codes and error bodies B2B Edition sends. Options choose what B2B Edition
leaves undocumented (bulk failures, 429 hints) and inject faults (5xx, dropped
connections, slow responses).

    with start_sandbox(SandboxOptions(reset_before=0.1)) as sandbox:
        ...  # send requests to sandbox.base_url
        assert max(sandbox.created_counts().values()) == 1
"""

from provisioner.sandbox.options import SandboxOptions
from provisioner.sandbox.seed import Seed, SeedError, load_seed
from provisioner.sandbox.server import RunningSandbox, serve_forever, start_sandbox

__all__ = [
    "RunningSandbox",
    "SandboxOptions",
    "Seed",
    "SeedError",
    "load_seed",
    "serve_forever",
    "start_sandbox",
]
