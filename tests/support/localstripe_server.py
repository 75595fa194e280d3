"""Runs localstripe for one test: bound to 127.0.0.1 on a free port (its own
command line binds every interface), with its state in this process's temporary
directory (it hard-codes /tmp/localstripe.pickle, which tests running side by
side would share). Prints the port on the first line of stdout, then serves
until it is killed.

Usage: TMPDIR=<private dir> python localstripe_server.py
"""

import os
import pickle
import socket
import sys
import tempfile

from aiohttp import web
from localstripe import resources, server

STATE = os.path.join(tempfile.gettempdir(), "localstripe.pickle")


def dump_to_disk(store):
    with open(STATE, "wb") as f:
        pickle.dump(store, f, protocol=pickle.HIGHEST_PROTOCOL)


def try_load_from_disk(store):
    # Every test starts from an empty account.
    pass


resources.Store.dump_to_disk = dump_to_disk
resources.Store.try_load_from_disk = try_load_from_disk


def main():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    print(sock.getsockname()[1], flush=True)
    web.run_app(server.app, sock=sock, print=None, access_log=None)


if __name__ == "__main__":
    sys.exit(main())
