"""A service's settings with one Quadlet key each, its security options and its [Service] limits."""

from __future__ import annotations

from typing import Any

from phoenix_compliance.convert.base import Base, spliced
from phoenix_compliance.convert.mapping import ONE_TO_ONE, read_of
from phoenix_compliance.convert.units import Read, Unit
from phoenix_compliance.convert.values import (
    RESTART,
    byte_size,
    cpu_quota,
    cpu_weight,
    duration_seconds,
    empty_mapping,
    memory_size,
    pairs,
    tasks_max,
)
from phoenix_compliance.parsers.compose import ComposeService
from phoenix_compliance.parsers.yamlmarks import MarkedDict, MarkedList
from phoenix_compliance.quadlet.versions import format_version


class Settings(Base):
    def simple_keys(self, unit: Unit, service: ComposeService, body: MarkedDict) -> set[str]:
        """Keys with one Quadlet key each (mapping.ONE_TO_ONE), those a pod decides for its
        members, and the rest of a service's settings."""
        name = service.name
        handled: set[str] = set()
        in_pod = self.stack.pod is not None

        def words(key: str) -> list[str]:
            value = body.get(key)
            if isinstance(value, MarkedList):
                return [str(item) for item in value]
            if isinstance(value, MarkedDict):
                self.problem(body.line_of(key), f"service {name}: {key}: expected a string or a list, got a mapping")
                return []
            return [] if value is None else [str(value)]

        for mapping in ONE_TO_ONE:
            key = mapping.compose
            if key not in body:
                continue
            handled.add(key)
            where = (name, key, body.line_of(key))
            if mapping.shape == "flag":
                if body[key] is True:
                    self.write(unit, "Container", mapping.key, "true", where)
                continue
            if mapping.shape == "scalar" and isinstance(body[key], (MarkedDict, MarkedList)):
                self.problem(where[2], f"service {name}: {key}: expected a string, got a {type(body[key]).__name__}")
                continue
            values = [pair.replace("=", ":", 1) for pair in pairs(body[key])] if key == "extra_hosts" else words(key)
            if mapping.pod and in_pod:
                if not self.has_key("Pod", mapping.key):
                    self.gap(
                        where[2],
                        name,
                        key,
                        f"the pod decides it for its members; [Pod] {mapping.key}= is "
                        f"not in Podman {format_version(self.version)}",
                    )
                    continue
                # A pod's members share its network, UTS and user namespaces: the pod carries them.
                wanted = self.pod_keys.setdefault(mapping.key, [])
                for value in values:
                    if value not in [known for known, _where in wanted]:
                        wanted.append((value, where))
                continue
            for value in values:
                # Each STRV key is read as words; one value of ours is one word.
                written: str | list[str] = [value] if read_of("Container", mapping.key) is Read.STRV else value
                if not self.write(unit, "Container", mapping.key, written, where) and not self.has_key(
                    "Container", mapping.key
                ):
                    break
        if body.get("stop_grace_period") is not None:
            handled.add("stop_grace_period")
            seconds = duration_seconds(body["stop_grace_period"])
            if seconds is None:
                self.problem(
                    body.line_of("stop_grace_period"),
                    f"service {name}: stop_grace_period: {body['stop_grace_period']!r} is not a duration",
                )
            else:
                where = (name, "stop_grace_period", body.line_of("stop_grace_period"))
                self.write(unit, "Container", "StopTimeout", str(seconds), where)
        if body.get("privileged") is True:
            handled.add("privileged")
            self.write(
                unit, "Container", "PodmanArgs", ["--privileged"], (name, "privileged", body.line_of("privileged"))
            )
            self.note(f"service {name}: privileged ({self.where(body.line_of('privileged'))}) kept; drop it if you can")
        elif "privileged" in body:
            handled.add("privileged")
        if "security_opt" in body:
            handled.add("security_opt")
            for option in words("security_opt"):
                self.security_opt(unit, name, option, body.line_of("security_opt"))
        if "ulimits" in body and isinstance(body["ulimits"], MarkedDict):
            handled.add("ulimits")
            for limit, value in body["ulimits"].items():
                if isinstance(value, MarkedDict):
                    text = f"{limit}={value.get('soft')}:{value.get('hard')}"
                else:
                    text = f"{limit}={value}"
                where = (name, "ulimits", body["ulimits"].line_of(limit))
                if not self.write(unit, "Container", "Ulimit", text, where) and not self.has_key("Container", "Ulimit"):
                    break
        if "pull_policy" in body:
            handled.add("pull_policy")
            policy = {
                "always": "always",
                "missing": "missing",
                "if_not_present": "missing",
                "never": "never",
                "newer": "newer",
            }.get(str(body["pull_policy"]))
            if policy is None:
                self.gap(body.line_of("pull_policy"), name, "pull_policy", f"{body['pull_policy']} is not converted")
            else:
                self.write(unit, "Container", "Pull", policy, (name, "pull_policy", body.line_of("pull_policy")))
        if "logging" in body and isinstance(body["logging"], MarkedDict):
            handled.add("logging")
            logging = body["logging"]
            if logging.get("driver"):
                where = (name, "logging.driver", logging.line_of("driver"))
                self.write(unit, "Container", "LogDriver", str(logging["driver"]), where)
            opts = logging.get("options")
            if isinstance(opts, MarkedDict):
                for opt, value in opts.items():
                    where = (name, f"logging.options.{opt}", opts.line_of(opt))
                    if not self.write(unit, "Container", "LogOpt", [f"{opt}={value}"], where) and not self.has_key(
                        "Container", "LogOpt"
                    ):
                        break
        if "annotations" in body:
            handled.add("annotations")
            for pair in pairs(body["annotations"]):
                self.write(unit, "Container", "Annotation", [pair], (name, "annotations", body.line_of("annotations")))
        if "sysctls" in body:
            handled.add("sysctls")
            for pair in pairs(body["sysctls"]):
                if in_pod and pair.startswith("net."):
                    self.gap(
                        body.line_of("sysctls"),
                        name,
                        "sysctls",
                        f"{pair.split('=')[0]}: a pod's members share "
                        "its network namespace, where podman refuses per-container net.* sysctls",
                    )
                else:
                    self.write(unit, "Container", "Sysctl", [pair], (name, "sysctls", body.line_of("sysctls")))
        if body.get("shm_size") is not None:
            handled.add("shm_size")
            size = memory_size(body["shm_size"])
            where = (name, "shm_size", body.line_of("shm_size"))
            if size is None:
                self.problem(where[2], f"service {name}: shm_size: {body['shm_size']!r} is not a size")
            elif not in_pod:
                self.write(unit, "Container", "ShmSize", size, where)
            elif self.has_key("Pod", "ShmSize"):
                # The pod's members share its IPC namespace, and with it /dev/shm: the largest asked for.
                if int(size) > (self.pod_shm or 0):
                    self.pod_shm, self.pod_shm_line = int(size), where[2]
            else:
                self.gap(
                    where[2],
                    name,
                    "shm_size",
                    "a pod's members share its /dev/shm; [Pod] ShmSize= arrived "
                    f"in Podman 5.4, not written for {format_version(self.version)}",
                )
        if "expose" in body:
            handled.add("expose")
            self.note(
                f"service {name}: expose ({self.where(body.line_of('expose'))}) needs nothing: "
                "the pod's containers reach each other's ports on localhost"
            )
        if "links" in body:
            handled.add("links")
            self.note(f"service {name}: links ({self.where(body.line_of('links'))}) need nothing in a pod")
        for key in ("ipc", "pid", "uts", "network_mode", "cgroup"):
            if key in body and in_pod:
                handled.add(key)
                self.gap(body.line_of(key), name, key, "a pod's members share its namespaces; not converted")
        return handled

    def security_opt(self, unit: Unit, service: str, option: str, line: int) -> None:
        key, _sep, value = option.replace("=", ":", 1).partition(":")
        where = (service, "security_opt", line)
        if key == "label" and value == "disable":
            self.write(unit, "Container", "SecurityLabelDisable", "true", where)
        elif key == "label" and value.startswith("type:"):
            self.write(unit, "Container", "SecurityLabelType", value.removeprefix("type:"), where)
        elif key == "no-new-privileges" and value in ("", "true"):
            self.write(unit, "Container", "NoNewPrivileges", "true", where)
        elif key == "seccomp" and value:
            profile = spliced(self.host_path(value)) if value != "unconfined" else value
            self.write(unit, "Container", "SeccompProfile", profile, where)
        else:
            self.gap(line, service, "security_opt", f"{option} is not converted")

    def service_section(self, unit: Unit, service: ComposeService, body: MarkedDict) -> set[str]:
        """Restart= and the resource limits: systemd's, on the service whose cgroup holds the container."""
        name = service.name
        handled: set[str] = set()
        restart = service.restart
        given = body.get("deploy")
        deploy: MarkedDict = given if isinstance(given, MarkedDict) else empty_mapping()
        policy = deploy.get("restart_policy") if isinstance(deploy.get("restart_policy"), MarkedDict) else None
        if restart is None and policy is not None:
            restart = {"none": "no", "any": "always"}.get(str(policy.get("condition")), str(policy.get("condition")))
        if restart is not None:
            word, _sep, count = restart.partition(":")
            systemd = RESTART.get(word)
            if systemd is None:
                self.gap(service.line_of("restart"), name, "restart", f"{restart} is not a restart policy")
            else:
                self.write(unit, "Service", "Restart", systemd, (name, "restart", service.line_of("restart")))
                if word == "unless-stopped":
                    self.note(
                        f"service {name}: restart unless-stopped is Restart=always "
                        "(a unit stopped with systemctl stays stopped)"
                    )
                if count:
                    self.gap(
                        service.line_of("restart"),
                        name,
                        "restart",
                        f"the retry count {count} is not converted (systemd's StartLimitBurst= counts differently)",
                    )
        limits: dict[str, Any] = {}
        reservations: dict[str, Any] = {}
        resources = deploy.get("resources")
        if isinstance(resources, MarkedDict):
            limits = dict(resources.get("limits") or {})
            reservations = dict(resources.get("reservations") or {})
        memory = body.get("mem_limit") or limits.get("memory")
        if memory is not None:
            handled.add("mem_limit")
            self.resource(unit, name, "MemoryMax", memory_size(memory), "mem_limit", service.line_of("mem_limit"))
        low = body.get("mem_reservation") or reservations.get("memory")
        if low is not None:
            handled.add("mem_reservation")
            self.resource(
                unit, name, "MemoryLow", memory_size(low), "mem_reservation", service.line_of("mem_reservation")
            )
        swap = body.get("memswap_limit")
        if swap is not None:
            handled.add("memswap_limit")
            total, mem = byte_size(swap), byte_size(memory) if memory is not None else None
            value = None if total is None or mem is None else ("infinity" if total < 0 else str(max(total - mem, 0)))
            self.resource(unit, name, "MemorySwapMax", value, "memswap_limit", service.line_of("memswap_limit"))
        cpus = body.get("cpus") or limits.get("cpus")
        if cpus is not None:
            handled.add("cpus")
            quota = cpu_quota(cpus)
            self.resource(unit, name, "CPUQuota", quota, "cpus", service.line_of("cpus"))
        pids = body.get("pids_limit") or limits.get("pids")
        if pids is not None:
            handled.add("pids_limit")
            value = tasks_max(pids)
            self.resource(unit, name, "TasksMax", value, "pids_limit", service.line_of("pids_limit"))
        if body.get("cpu_shares") is not None:
            handled.add("cpu_shares")
            weight = cpu_weight(body["cpu_shares"])
            self.resource(unit, name, "CPUWeight", weight, "cpu_shares", service.line_of("cpu_shares"))
        for key in deploy:
            if key not in ("restart_policy", "resources"):
                if key == "replicas" and str(deploy[key]) == "1":
                    continue
                self.gap(deploy.line_of(key), name, f"deploy.{key}", "not converted")
        if isinstance(resources, MarkedDict):
            for kind, values in (("limits", limits), ("reservations", reservations)):
                for key in values:
                    if (kind, key) not in (
                        ("limits", "memory"),
                        ("limits", "cpus"),
                        ("limits", "pids"),
                        ("reservations", "memory"),
                    ):
                        self.gap(resources.line_of(kind), name, f"deploy.resources.{kind}.{key}", "not converted")
        return handled

    def resource(self, unit: Unit, service: str, key: str, value: str | None, field_name: str, line: int) -> None:
        if value is None:
            self.problem(line, f"service {service}: {field_name}: not a value systemd's {key}= reads")
        else:
            self.write(unit, "Service", key, value, (service, field_name, line))
