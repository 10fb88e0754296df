"""The Podman API's documents of the reference stack: container list entries, inspect documents and
the pod, for the pod's members, its infra container and the optional group's container."""

from __future__ import annotations

import hashlib
from typing import Any

from fakehost.reference import GROUP_SERVICES, HOME, IMAGE, IMAGE_ID, INFRA_ID, INFRA_IMAGE, POD, POD_ID, SERVICES, UID


def container_entry(service: str, *, state: str = "running", status: str = "healthy") -> dict[str, Any]:
    """One element of GET /libpod/containers/json?all=true for a Quadlet-run pod member."""
    return {
        "AutoRemove": True,
        "Command": ["httpd", "-f", "-p", str(dict(SERVICES + GROUP_SERVICES)[service]), "-h", "/www"],
        "Created": "2025-11-03T10:12:44.123456789Z",
        "CreatedAt": "",
        "CIDFile": f"/run/user/{UID}/{service}.cid",
        "Exited": state != "running",
        "ExitedAt": -62135596800,
        "ExitCode": 0,
        "Id": hashlib.sha256(service.encode()).hexdigest(),
        "Image": IMAGE,
        "ImageID": IMAGE_ID,
        "IsInfra": False,
        "Labels": {"PODMAN_SYSTEMD_UNIT": f"{service}.service"},
        "Mounts": ["/www"],
        "Names": [service],
        "Namespaces": {},
        "Networks": [],
        "Pid": 2345,
        "Pod": POD_ID,
        "PodName": POD,
        # A pod member reports the infra container's ports: every port the pod publishes.
        "Ports": [
            {"host_ip": "", "container_port": port, "host_port": port, "range": 1, "protocol": "tcp"}
            for _, port in SERVICES
        ],
        "Restarts": 0,
        "Size": None,
        "StartedAt": 1762164765,
        "State": state,
        "Status": status,
    }


def infra_entry() -> dict[str, Any]:
    entry = container_entry("phoenix-core")
    entry.update(
        Command=None,
        Id=INFRA_ID,
        Image=INFRA_IMAGE,
        IsInfra=True,
        Labels={},
        Mounts=[],
        Names=[f"{POD}-infra"],
        Status="",
    )
    return entry


def inspect_document(service: str, *, health: str = "healthy") -> dict[str, Any]:
    """GET /v4.0.0/libpod/containers/NAME/json of a Quadlet-run pod member (Podman 5.4,
    no SELinux: the :Z survives only in Config.CreateCommand)."""
    port = dict(SERVICES + GROUP_SERVICES)[service]
    probe = f"wget -q -O /dev/null http://localhost:{port}/"
    source = f"{HOME}/phoenix-hydra/data/{service}"
    return {
        "Id": container_entry(service)["Id"],
        "Created": "2025-11-03T10:12:44.123456789Z",
        "Path": "httpd",
        "Args": ["-f", "-p", str(port), "-h", "/www"],
        "State": {
            "OciVersion": "1.2.0",
            "Status": "running",
            "Running": True,
            "Paused": False,
            "Restarting": False,
            "OOMKilled": False,
            "Dead": False,
            "Pid": 2345,
            "ExitCode": 0,
            "Error": "",
            "StartedAt": "2025-11-03T10:12:45.2Z",
            "FinishedAt": "0001-01-01T00:00:00Z",
            "Health": {
                "Status": health,
                "FailingStreak": 0 if health == "healthy" else 3,
                "Log": [
                    {
                        "Start": "2025-11-03T10:13:15.4Z",
                        "End": "2025-11-03T10:13:15.5Z",
                        "ExitCode": 0 if health == "healthy" else 1,
                        "Output": ""
                        if health == "healthy"
                        else "wget: can't connect to remote host: Connection refused",
                    }
                ],
            },
            "CheckpointedAt": "0001-01-01T00:00:00Z",
            "RestoredAt": "0001-01-01T00:00:00Z",
        },
        "Image": IMAGE_ID,
        "ImageDigest": "sha256:" + IMAGE_ID,
        "ImageName": IMAGE,
        "Rootfs": "",
        "Pod": POD_ID,
        "Name": service,
        "RestartCount": 0,
        "Driver": "overlay",
        "MountLabel": "",
        "ProcessLabel": "",
        "EffectiveCaps": ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
        "Mounts": [
            {
                "Type": "bind",
                "Source": source,
                "Destination": "/www",
                "Driver": "",
                "Mode": "",
                "Options": ["rbind"],
                "RW": True,
                "Propagation": "rprivate",
            }
        ],
        "IsInfra": False,
        "IsService": False,
        "Config": {
            "Hostname": POD,
            "User": "",
            "Env": ["container=podman", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "Cmd": ["httpd", "-f", "-p", str(port), "-h", "/www"],
            "Image": IMAGE,
            "Labels": {"PODMAN_SYSTEMD_UNIT": f"{service}.service"},
            "StopSignal": "SIGTERM",
            "HealthcheckOnFailureAction": "none",
            "CreateCommand": [
                "/usr/bin/podman",
                "run",
                "--name",
                service,
                f"--cidfile=/run/user/{UID}/{service}.cid",
                "--replace",
                "--rm",
                "--cgroups=split",
                "--sdnotify=conmon",
                "-d",
                "--pod-id-file",
                f"/run/user/{UID}/phoenix-hydra-pod.pod-id",
                "-v",
                f"{source}:/www:Z",
                "--health-cmd",
                probe,
                "--health-interval",
                "30s",
                IMAGE,
                "httpd",
                "-f",
                "-p",
                str(port),
                "-h",
                "/www",
            ],
            "Healthcheck": {"Test": ["CMD-SHELL", probe], "Interval": 30000000000},
        },
        "HostConfig": {
            "Binds": [f"{source}:/www:rw,rprivate,rbind"],
            "CgroupManager": "systemd",
            "NetworkMode": "bridge",
            "PortBindings": {},
            "RestartPolicy": {"Name": "", "MaximumRetryCount": 0},
            "AutoRemove": True,
            "CapAdd": [],
            "CapDrop": ["CAP_AUDIT_WRITE", "CAP_MKNOD", "CAP_NET_RAW"],
            "Privileged": False,
            "PidMode": "private",
            "UsernsMode": "",
        },
    }


def group_container_entry(service: str) -> dict[str, Any]:
    """A Quadlet-run container of the optional group: no pod, its own published port."""
    port = dict(GROUP_SERVICES)[service]
    entry = container_entry(service)
    entry.update(
        Pod="",
        PodName="",
        Ports=[{"host_ip": "", "container_port": port, "host_port": port, "range": 1, "protocol": "tcp"}],
    )
    return entry


def group_inspect_document(service: str) -> dict[str, Any]:
    document = inspect_document(service)
    document.update(Pod="")
    port = dict(GROUP_SERVICES)[service]
    probe = f"wget -q -O /dev/null http://localhost:{port}/ready"
    document["Config"]["Healthcheck"] = {"Test": ["CMD-SHELL", probe], "Interval": 30000000000}
    return document


def pod_entry() -> dict[str, Any]:
    """GET /libpod/pods/json of the stack's pod."""
    return {
        "Cgroup": f"user.slice/user-{UID}.slice/user@{UID}.service/user.slice",
        "Containers": [{"Id": INFRA_ID, "Names": f"{POD}-infra", "Status": "running"}]
        + [{"Id": container_entry(s)["Id"], "Names": s, "Status": "running"} for s, _ in SERVICES],
        "Created": "2025-11-03T10:12:40.0Z",
        "Id": POD_ID,
        "InfraId": INFRA_ID,
        "Name": POD,
        "Namespace": "",
        "Networks": ["podman"],
        "Status": "Running",
        "Labels": {},
    }


def infra_document() -> dict[str, Any]:
    document = inspect_document("phoenix-core")
    document.update(Id=INFRA_ID, Name=f"{POD}-infra", ImageName=INFRA_IMAGE, Mounts=[], IsInfra=True, Path="/catatonit")
    document["State"].pop("Health")
    document["Config"].update(CreateCommand=None, Healthcheck=None, Labels={})
    return document
