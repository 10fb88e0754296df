"""A service's settings with one Quadlet key each, its security options and its [Service] limits."""

from __future__ import annotations

from typing import Any

from phoenix_compliance.convert.base import Base
from phoenix_compliance.convert.units import Unit, quote_word, systemd_literal
from phoenix_compliance.convert.values import (
    RESTART,
    SHARED_IN_POD,
    byte_size,
    duration_seconds,
    empty_mapping,
    memory_size,
    pairs,
)
from phoenix_compliance.parsers.compose import ComposeService
from phoenix_compliance.parsers.yamlmarks import MarkedDict, MarkedList
from phoenix_compliance.quadlet_lint.versions import format_version


class Settings(Base):
    def simple_keys(self, unit: Unit, service: ComposeService, body: MarkedDict) -> set[str]:
        """Keys with one Quadlet key each, and those a pod decides for its members."""
        name = service.name
        handled: set[str] = set()
        in_pod = self.stack.pod is not None

        def words(key: str) -> list[str]:
            value = body.get(key)
            if isinstance(value, MarkedList):
                return [str(item) for item in value]
            return [] if value is None or isinstance(value, MarkedDict) else [str(value)]

        # Split into words by Quadlet (LookupAllStrv) or taken whole (LookupAll).
        one_each = {
            "cap_add": ("AddCapability", True),
            "cap_drop": ("DropCapability", True),
            "devices": ("AddDevice", True),
            "group_add": ("GroupAdd", False),
            "tmpfs": ("Tmpfs", False),
        }
        for key, (quadlet, split) in one_each.items():
            if key in body:
                handled.add(key)
                for word in words(key):
                    value = (
                        quote_word(systemd_literal(word)) if split else self.raw(word, (name, key, body.line_of(key)))
                    )
                    if not self.put(unit, "Container", quadlet, value, (name, key, body.line_of(key))):
                        break
        scalars = {"user": "User", "working_dir": "WorkingDir", "stop_signal": "StopSignal"}
        for key, quadlet in scalars.items():
            if body.get(key) is not None:
                handled.add(key)
                self.put(
                    unit,
                    "Container",
                    quadlet,
                    self.raw(str(body[key]), (name, key, body.line_of(key))),
                    (name, key, body.line_of(key)),
                )
        flags = {"read_only": "ReadOnly", "init": "RunInit"}
        for key, quadlet in flags.items():
            if key in body:
                handled.add(key)
                if body[key] is True:
                    unit.add("Container", quadlet, "true")
        if body.get("stop_grace_period") is not None:
            handled.add("stop_grace_period")
            seconds = duration_seconds(str(body["stop_grace_period"]))
            if seconds is None:
                self.gap(body.line_of("stop_grace_period"), name, "stop_grace_period", "not a duration")
            else:
                self.put(
                    unit,
                    "Container",
                    "StopTimeout",
                    str(seconds),
                    (name, "stop_grace_period", body.line_of("stop_grace_period")),
                )
        if body.get("privileged") is True:
            handled.add("privileged")
            unit.add("Container", "PodmanArgs", "--privileged")
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
                if not self.put(unit, "Container", "Ulimit", text, (name, "ulimits", body.line_of("ulimits"))):
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
                self.put(unit, "Container", "Pull", policy, (name, "pull_policy", body.line_of("pull_policy")))
        if "logging" in body and isinstance(body["logging"], MarkedDict):
            handled.add("logging")
            logging = body["logging"]
            if logging.get("driver"):
                self.put(unit, "Container", "LogDriver", str(logging["driver"]), (name, "logging", logging.line))
            opts = logging.get("options")
            if isinstance(opts, MarkedDict):
                for opt, value in opts.items():
                    if not self.put(
                        unit,
                        "Container",
                        "LogOpt",
                        quote_word(f"{opt}={value}"),
                        (name, "logging.options", opts.line_of(opt)),
                    ):
                        break
        if "annotations" in body:
            handled.add("annotations")
            for pair in pairs(body["annotations"]):
                unit.add("Container", "Annotation", quote_word(systemd_literal(pair)))
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
                    self.put(unit, "Container", "Sysctl", quote_word(pair), (name, "sysctls", body.line_of("sysctls")))
        if body.get("shm_size") is not None:
            handled.add("shm_size")
            size = memory_size(body["shm_size"])
            where = (name, "shm_size", body.line_of("shm_size"))
            if size is None:
                self.gap(where[2], name, "shm_size", "not a size")
            elif not in_pod:
                self.put(unit, "Container", "ShmSize", size, where)
            elif self.has_key("Pod", "ShmSize"):
                # The pod's members share its IPC namespace, and with it /dev/shm: the largest asked for.
                self.pod_shm = max(self.pod_shm or 0, int(size))
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
        for key, quadlet in SHARED_IN_POD.items():
            if key not in body:
                continue
            handled.add(key)
            where = (name, key, body.line_of(key))
            for value in words(key) if key not in ("extra_hosts",) else list(pairs(body[key])):
                value = value.replace("=", ":", 1) if key == "extra_hosts" else value
                if not in_pod:
                    self.put(unit, "Container", quadlet, self.raw(value, where), where)
                elif self.has_key("Pod", quadlet):
                    # A pod's members share its network, UTS and user namespaces: the pod carries them.
                    if value not in self.pod_keys.setdefault(quadlet, []):
                        self.pod_keys[quadlet].append(value)
                else:
                    self.gap(
                        where[2],
                        name,
                        key,
                        f"the pod decides it for its members; [Pod] {quadlet}= is "
                        f"not in Podman {format_version(self.version)}",
                    )
                    break
        for key in ("ipc", "pid", "uts", "network_mode", "cgroup"):
            if key in body and in_pod:
                handled.add(key)
                self.gap(body.line_of(key), name, key, "a pod's members share its namespaces; not converted")
        return handled

    def security_opt(self, unit: Unit, service: str, option: str, line: int) -> None:
        key, _sep, value = option.replace("=", ":", 1).partition(":")
        if key == "label" and value == "disable":
            unit.add("Container", "SecurityLabelDisable", "true")
        elif key == "label" and value.startswith("type:"):
            unit.add("Container", "SecurityLabelType", value.removeprefix("type:"))
        elif key == "no-new-privileges" and value in ("", "true"):
            unit.add("Container", "NoNewPrivileges", "true")
        elif key == "seccomp" and value:
            unit.add("Container", "SeccompProfile", self.host_path(value) if value != "unconfined" else value)
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
                unit.add("Service", "Restart", systemd)
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
            try:
                quota = f"{round(float(cpus) * 100)}%"
            except ValueError:
                quota = None
            self.resource(unit, name, "CPUQuota", quota, "cpus", service.line_of("cpus"))
        pids = body.get("pids_limit") or limits.get("pids")
        if pids is not None:
            handled.add("pids_limit")
            value = "infinity" if str(pids) in ("-1", "0") else str(pids)
            self.resource(unit, name, "TasksMax", value, "pids_limit", service.line_of("pids_limit"))
        if body.get("cpu_shares") is not None:
            handled.add("cpu_shares")
            try:
                weight: str | None = str(max(1, min(10000, 1 + (int(body["cpu_shares"]) - 2) * 9999 // 262142)))
            except ValueError:
                weight = None
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
            self.gap(line, service, field_name, "not a value systemd reads")
        else:
            unit.add("Service", key, value)
