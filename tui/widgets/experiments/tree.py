"""The tree of experiment files and config modules."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode


@dataclass(frozen=True)
class ExperimentEntry:
    """An experiment file, or (``path`` = ``file.py:name``) one experiment of several in a file."""

    path: Path
    label: str


@dataclass(frozen=True)
class ModuleEntry:
    group: str
    name: str


class ExperimentTree(Tree):
    """``experiments/`` (files, nested by folder) and ``conf/`` (groups and their modules)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("mazedsl", id=id)
        self.show_root = False
        self.guide_depth = 3
        self._experiments_node: TreeNode | None = None
        self._conf_node: TreeNode | None = None

    def populate(self, files: list[Path], root: Path, sweeps: set[Path] | None = None) -> None:
        """List ``files`` under ``root`` (``sweeps``: those that are Hydra sweep configs)."""
        self.clear()
        self._experiments_node = self.root.add(Text(f"{root.name or root}/", style="bold"), expand=True)
        folders: dict[tuple[str, ...], TreeNode] = {(): self._experiments_node}
        for path in files:
            rel = path.relative_to(root)
            for depth in range(1, len(rel.parts)):
                key = rel.parts[:depth]
                if key not in folders:
                    folders[key] = folders[key[:-1]].add(f"{key[-1]}/", expand=True)
            label = Text.assemble(rel.stem, (" sweep", "dim")) if sweeps and path in sweeps else rel.stem
            folders[rel.parts[:-1]].add_leaf(label, data=ExperimentEntry(path, str(rel)))
        if not files:
            self._experiments_node.add_leaf(Text("(no experiment files)", style="dim"))
        self._conf_node = self.root.add(Text("conf/", style="bold"), expand=False)
        self._conf_node.add_leaf(Text("loading…", style="dim"))

    def set_modules(self, modules: dict[str, list[str]], error: str | None = None) -> None:
        node = self._conf_node
        if node is None:
            return
        node.remove_children()
        if error:
            node.add_leaf(Text(error, style="#e06c75"))
            return
        for group, names in modules.items():
            group_node = node.add(f"{group}/", expand=False)
            for name in names:
                group_node.add_leaf(name, data=ModuleEntry(group, name))
            if not names:
                group_node.add_leaf(Text("(none)", style="dim"))

    def set_choices(self, file: Path, names: list[str], root: Path) -> TreeNode | None:
        """List the experiments ``names`` of ``file`` as its children (once)."""
        from mazedsl_tui.library import experiment_ref

        node = self.find(file)
        if node is None:
            return None
        if not node.children:
            rel = file.relative_to(root) if file.is_relative_to(root) else file
            node.allow_expand = True
            for name in names:
                node.add_leaf(f":{name}", data=ExperimentEntry(experiment_ref(file, name), f"{rel}:{name}"))
        node.expand()
        return node

    def experiment_entries(self) -> list[ExperimentEntry]:
        out: list[ExperimentEntry] = []

        def walk(node: TreeNode) -> None:
            if isinstance(node.data, ExperimentEntry):
                out.append(node.data)
            for child in node.children:
                walk(child)

        if self._experiments_node is not None:
            walk(self._experiments_node)
        return out

    def find(self, path: Path) -> TreeNode | None:
        """The node of the experiment file (or ``file.py:name``) ``path``."""
        def walk(node: TreeNode) -> TreeNode | None:
            if isinstance(node.data, ExperimentEntry) and node.data.path == path:
                return node
            for child in node.children:
                found = walk(child)
                if found is not None:
                    return found
            return None

        return walk(self.root)

    def select_path(self, path: Path) -> bool:
        """Move the cursor to the experiment file (or ``file.py:name``) ``path``."""
        node = self.find(path)
        if node is None:
            return False
        if node.parent is not None and not node.parent.is_expanded:
            node.parent.expand()
            self.call_after_refresh(self.move_cursor, node)  # its line is known after the refresh
        else:
            self.move_cursor(node)
        return True
