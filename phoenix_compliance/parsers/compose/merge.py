"""The files of a project merged: -f files, `include:`, `extends:`, and 1.6's !reset / !override."""

from __future__ import annotations

import posixpath
from typing import Any

from phoenix_compliance.parsers.compose.loading import Loader, deep_copy, kind, marked_dict
from phoenix_compliance.parsers.compose.model import Override, Reset
from phoenix_compliance.parsers.yamlmarks import MarkedDict, MarkedList


class ProjectLoader(Loader):
    """Reads the files of one project and merges them, as podman-compose does before it looks at them."""

    def load_all(self, text: str, extra: list[str]) -> MarkedDict | None:
        """The files merged in order, each `include:` appended to the list as it is met."""
        merged = self.document(text, self.result.path)
        if merged is None:
            return None
        if self.newest and merged.get("services", {}) is None:
            # 1.6 reads `services:` left empty as no services (earlier releases stop on it).
            merged["services"] = marked_dict(merged)
        pending = list(extra)
        self.take_includes(merged, self.result.path, pending)
        seen = {self.result.path}
        while pending:
            name = pending.pop(0)
            if name in seen:
                # podman-compose would read it again and again; one merge says the same.
                continue
            seen.add(name)
            other_text = self.fetch(name, merged.line)
            if other_text is None:
                return None
            other = self.document(other_text, name)
            if other is None:
                return None
            self.take_includes(other, name, pending)
            if not self.merge(merged, other, ""):
                return None
        return merged

    def take_includes(self, document: MarkedDict, name: str, pending: list[str]) -> None:
        include = document.pop("include", None)
        if include is None:
            return
        line = document.key_lines.pop("include", document.line)
        if not isinstance(include, MarkedList):
            self.problem(line, "'include' is not a list")
            return
        for index, item in enumerate(include):
            # 1.6 reads `{path: ...}` and resolves against the including file; earlier
            # releases take plain strings only, relative to the first file's folder.
            target = item.get("path") if isinstance(item, MarkedDict) and self.newest else item
            if not isinstance(target, str) or not target:
                self.problem(include.line_of(index), "include: an entry podman-compose cannot read as a file path")
                continue
            base = posixpath.dirname(name) if self.newest else self.first_dir
            pending.append(posixpath.normpath(posixpath.join(base, target)))

    def merge(self, target: MarkedDict, source: MarkedDict, where: str) -> bool:
        """rec_merge: new keys added, mappings merged, lists appended, anything else replaced."""
        for key, value in source.items():
            line = source.line_of(key)
            if key not in target:
                target[key] = value
                target.key_lines[key] = line
                continue
            old = target[key]
            if isinstance(old, Reset) or isinstance(value, Reset):
                del target[key]
                continue
            if isinstance(old, Override) or isinstance(value, Override):
                target[key] = old.value if isinstance(old, Override) else value.value
                target.key_lines[key] = line
                continue
            if key in ("command", "entrypoint"):
                target[key] = value
                target.key_lines[key] = line
                continue
            if old is None and isinstance(value, MarkedDict) and self.newest:
                # 1.6 merges a mapping into an empty key (`vol:` then `vol: {driver: x}`).
                old = target[key] = marked_dict(value)
            if isinstance(old, MarkedDict) and isinstance(value, MarkedDict):
                if not self.merge(old, value, f"{where}{key}."):
                    return False
            elif isinstance(old, MarkedList) and isinstance(value, MarkedList):
                if key == "volumes":
                    # An override's mount replaces the base's mount of the same target.
                    targets = {item.split(":", 2)[1] for item in value if isinstance(item, str) and ":" in item}
                    kept = [
                        (item, old.line_of(i))
                        for i, item in enumerate(old)
                        if not (isinstance(item, str) and ":" in item and item.split(":", 2)[1] in targets)
                    ]
                    old[:] = [item for item, _ in kept]
                    old.item_lines = [item_line for _, item_line in kept]
                old.extend(value)
                old.item_lines = [*old.item_lines, *value.item_lines]
            elif not isinstance(value, type(old)):
                self.problem(
                    line, f"{where}{key}: cannot merge a {kind(value)} over a {kind(old)} (podman-compose stops here)"
                )
                return False
            else:
                target[key] = value
                target.key_lines[key] = line
        return True

    def extends(self, document: MarkedDict) -> None:
        services = document.get("services")
        if not isinstance(services, MarkedDict):
            return
        done: set[str] = set()
        for name in list(services):
            self.extend_one(services, name, done, [])

    def extend_one(self, services: MarkedDict, name: str, done: set[str], chain: list[str]) -> None:
        body = services.get(name)
        if name in done or not isinstance(body, MarkedDict):
            return
        if name in chain:
            self.problem(services.line_of(name), f"service {name}: extends itself through {' -> '.join(chain)}")
            done.add(name)
            return
        done.add(name)
        extends = body.get("extends")
        if not isinstance(extends, MarkedDict) or not extends.get("service"):
            return
        line = body.line_of("extends")
        parent_name = str(extends["service"])
        file_name = extends.get("file")
        if isinstance(file_name, str) and file_name:
            parent = self.extended_from_file(file_name, parent_name, line)
            if parent is None:
                return
        else:
            done.discard(name)
            self.extend_one(services, parent_name, done, [*chain, name])
            done.add(name)
            found = services.get(parent_name)
            if parent_name not in services:
                self.problem(line, f"service {name}: extends service {parent_name!r}, which the file does not define")
                return
            parent = marked_dict(found) if isinstance(found, MarkedDict) else marked_dict(MarkedDict())
            if isinstance(found, MarkedDict):
                parent.update(found)
                parent.key_lines.update(found.key_lines)
            parent.pop("extends", None)
        merged = deep_copy(parent)
        if self.merge(merged, deep_copy(body), f"service {name}: "):
            services[name] = merged

    def extended_from_file(self, file_name: str, service: str, line: int) -> MarkedDict | None:
        # 1.6 reads the file beside the one that says `extends:`; earlier releases beside the first file.
        base = posixpath.dirname(self.result.locate(line)[0]) if self.newest else self.first_dir
        path = posixpath.normpath(posixpath.join(base, file_name))
        text = self.fetch(path, line)
        if text is None:
            return None
        document = self.document(text, path)
        if document is None:
            return None
        services = document.get("services", document)
        found = services.get(service) if isinstance(services, MarkedDict) else None
        return found if isinstance(found, MarkedDict) else marked_dict(MarkedDict())


def untag(node: Any, found: list[tuple[int, str]]) -> None:
    """Tags no merge consumed, removed; each named in `found` with its line: 1.6 keeps them in
    its model and then fails on them (`'ResetTag' object has no attribute 'get'`)."""
    if isinstance(node, MarkedDict):
        for key, value in list(node.items()):
            if isinstance(value, (Reset, Override)):
                found.append((node.line_of(key), f"{key}: !{'reset' if isinstance(value, Reset) else 'override'}"))
                del node[key]
            else:
                untag(value, found)
    elif isinstance(node, MarkedList):
        for value in node:
            untag(value, found)
