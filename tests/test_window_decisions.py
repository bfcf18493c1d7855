"""What the main window decides, without a window: how declared menus and actions are
arranged (designer/ui/contributions.py), which actions are enabled in which state of
the editor (window_contributions.enabled_actions), and the document-file rules
(designer/ui/document_files.py: templates, save and export targets, recent files,
messages)."""
from __future__ import annotations

from pathlib import Path

import pytest

from designer.document import is_weights_file
from designer.graph.errors import GraphError
from designer.ui.contributions import (MENU_BAR, SEPARATOR, ActionDecl, DeclarationError, DockDecl, Entry, MenuDecl,
                                       Place, arrange, dock_toggles)
from designer.ui import document_files as files
from designer.ui.window_contributions import EditorState, enabled_actions


def action(id_, *places):
    return ActionDecl(id_, id_.title(), places=tuple(Place(*p) for p in places))


def test_menus_sort_by_order_and_entries_by_group_then_order_with_separators_between_groups():
    menus = [MenuDecl("help", "&Help", order=60), MenuDecl("file", "&File", order=10),
             MenuDecl("training", "T&raining", order=45), MenuDecl("tools", "&Tools", order=50),
             MenuDecl("export", "&Export", parent="file", group="3_export", order=1),
             MenuDecl("trained", "Export &Trained Model", parent="file", group="3_export", order=2)]
    actions = [action("quit", ("file", "4_close", 2)), action("close", ("file", "4_close", 1)),
               action("open", ("file", "1_open", 3)), action("new", ("file", "1_open", 1)),
               action("png", ("export", "2_diagram", 1)), action("onnx", ("export", "1_model", 1)),
               action("toggle", ("training", "2", 2), ("help", "", 1)), action("start", ("training", "1", 1)),
               action("shortcut_only")]
    got = arrange(menus, actions)
    assert got[MENU_BAR] == [Entry("menu", m) for m in ("file", "training", "tools", "help")]
    assert got["file"] == [Entry("action", "new"), Entry("action", "open"), SEPARATOR,
                           Entry("menu", "export"), Entry("menu", "trained"), SEPARATOR,
                           Entry("action", "close"), Entry("action", "quit")]
    assert got["export"] == [Entry("action", "onnx"), SEPARATOR, Entry("action", "png")]
    assert got["training"] == [Entry("action", "start"), SEPARATOR, Entry("action", "toggle")]
    assert got["help"] == [Entry("action", "toggle")]
    assert got["tools"] == [] and got["trained"] == []
    placed = {e.id for entries in got.values() for e in entries}
    assert "shortcut_only" not in placed      # deliberately menu-less


def test_same_group_and_order_keep_the_order_of_declaration():
    menus = [MenuDecl("m", "M")]
    got = arrange(menus, [action("b", ("m", "", 0)), action("a", ("m", "", 0))])
    assert [e.id for e in got["m"]] == ["b", "a"]


def test_a_duplicate_id_or_an_undeclared_menu_is_refused():
    with pytest.raises(DeclarationError, match="'x'"):
        arrange([MenuDecl("m", "M")], [action("x", ("m",)), action("x", ("m",))])
    with pytest.raises(DeclarationError, match="'nowhere'"):
        arrange([MenuDecl("m", "M")], [action("x", ("nowhere",))])
    with pytest.raises(DeclarationError, match="'gone'"):
        arrange([MenuDecl("sub", "Sub", parent="gone")], [])


def test_docks_declare_their_toggles():
    docks = [DockDecl("summary", "Summary", widget=lambda: None, toggle_places=(Place("view", "2", 3),)),
             DockDecl("training", "Train", widget=lambda: None, toggle_title="&Train Panel",
                      toggle_places=(Place("view", "2", 5), Place("training", "2", 2))),
             DockDecl("quiet", "Quiet", widget=lambda: None)]
    toggles = dock_toggles(docks)
    assert [(t.id, t.title, [p.menu for p in t.places]) for t in toggles] == [
        ("panel_summary", "Summary", ["view"]), ("panel_training", "&Train Panel", ["view", "training"])]


# ---- which actions are enabled -----------------------------------------------------------------

KEYS = ["cut", "copy", "paste", "group", "ungroup", "save_block", "explain", "filters", "save", "revert",
        "export_onnx", "new", "undo"]


def test_the_start_page_leaves_only_what_needs_no_document():
    got = enabled_actions(EditorState(editor=False, editable=True, root=True), KEYS)
    assert not any(got.values())
    assert "new" not in got and "undo" not in got      # not the editor's to decide


def test_a_read_only_composite_can_be_looked_at_not_edited():
    got = enabled_actions(EditorState(editor=True, editable=False, root=False), KEYS)
    assert got["copy"] and got["save"] and got["export_onnx"]
    assert not got["cut"] and not got["paste"] and not got["group"]


def test_the_single_selection_decides_explain_filters_and_save_block():
    conv = enabled_actions(EditorState(True, True, True, single_type="Conv2d", has_path=True), KEYS)
    assert conv["explain"] and conv["filters"] and not conv["save_block"] and conv["revert"]
    mine = enabled_actions(EditorState(True, True, True, single_type="Block", single_is_composite=True), KEYS)
    assert mine["save_block"] and not mine["filters"] and not mine["revert"]
    inside = enabled_actions(EditorState(True, True, root=False), KEYS)
    assert not inside["group"] and not inside["ungroup"] and not inside["explain"]


# ---- document files --------------------------------------------------------------------------

def test_a_preset_opens_as_a_template_laid_out_for_the_canvas():
    document = files.load_document("lenet5")
    assert document.path is None               # Save asks where
    assert not files.needs_layout(document.graph, files.TEMPLATE_ASPECT)
    assert files.opened_message(document, "lenet5") == "Opened LeNet-5"


def test_a_json_document_opens_as_itself(tmp_path):
    from designer.graph.fileformat import save
    from designer.graph.model import Graph
    path = tmp_path / "mine.json"
    save(Graph(), path)
    document = files.load_document(str(path))
    assert document.path == path
    assert files.opened_message(document, path) == "Opened mine.json"


def test_save_and_export_targets():
    home = Path("/home/me")
    assert files.save_suggestion(None, "LeNet-5 (mine)", home) == home / "lenet-5__mine.json"
    assert files.save_suggestion(Path("/d/a.json"), "A", home) == Path("/d/a.json")
    assert files.save_target("/d/net") == Path("/d/net.json")
    assert files.save_target("/d/net.JSON") == Path("/d/net.JSON")
    assert files.save_target("/d/net.v2") == Path("/d/net.v2.json")
    assert files.export_base(Path("/d/a.json"), "A", home) == Path("/d/a")
    assert files.export_base(None, "", home) == home / "network"
    assert files.export_target("/d/a", ".onnx") == Path("/d/a.onnx")
    assert files.export_target("/d/a.ONNX", ".onnx") == Path("/d/a.ONNX")
    assert files.export_target("/d/a.v2", ".onnx") == Path("/d/a.v2.onnx")
    assert files.export_target("/d/a.onnx", ".onnx") == Path("/d/a.onnx")
    assert files.is_openable("/d/W.PTH") and files.is_openable("a.json") and not files.is_openable("a.png")
    assert is_weights_file("x.pt") and is_weights_file("X.PTH") and not is_weights_file("lenet5")


def test_recent_files_newest_first_once_and_at_most_ten(tmp_path):
    made = []
    for i in range(12):
        p = tmp_path / f"{i}.json"
        p.write_text("{}")
        made.append(str(p.resolve()))
    recent: list[str] = []
    for p in made:
        recent = files.with_recent(recent, p)
    assert recent == made[::-1][:files.MAX_RECENT]
    assert files.with_recent(recent, made[5])[0] == made[5] and files.with_recent(recent, made[5]).count(made[5]) == 1
    assert files.recent_list(made[0]) == [made[0]]          # the settings hand back one file as a string
    assert files.recent_list(None) == []
    Path(made[11]).unlink()
    assert made[11] not in files.recent_list(recent)


def test_problem_text_names_the_file_once():
    assert files.problem_text("a.json", GraphError("a.json: line 3: bad")) == "a.json: line 3: bad"
    assert files.problem_text("a.json", ValueError("no nodes")) == "a.json: no nodes"
    assert files.problem_text("a.json", KeyError("x")) == "a.json: unexpected problem (KeyError: 'x')"
