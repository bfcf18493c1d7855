"""TrainConfig: JSON round trip, refusals in one sentence, a document's defaults."""
import json

import pytest

from designer import load_graph
from designer.train.config import TrainConfig
from designer.train.errors import TrainConfigError, TrainSetupError


def test_round_trip_through_json():
    config = TrainConfig(dataset="shapes", epochs=5, optimizer="sgd", nesterov=True, augment=["hflip", "normalize"],
                         image_size=48, amp="bf16", max_steps=7)
    again = TrainConfig.from_json(config.to_json())
    assert again == config
    assert again.image_size == [48, 48]
    assert json.loads(config.to_json())["augment"] == ["hflip", "normalize"]


def test_unknown_setting_is_refused_by_name():
    with pytest.raises(TrainConfigError, match="unknown setting 'learning_rate'"):
        TrainConfig.from_dict({"learning_rate": 0.1})
    assert issubclass(TrainConfigError, TrainSetupError)


@pytest.mark.parametrize("key, value, words", [
    ("optimizer", "rmsprop", "optimizer must be one of sgd, adam, adamw"),
    ("lr", 0, "lr must be above 0"),
    ("epochs", 0, "epochs must be at least 1"),
    ("batch_size", 2.5, "batch_size must be a whole number"),
    ("augment", ["mixup"], "augment must be one of"),
    ("val_fraction", 0.95, "val_fraction must be at most 0.9"),
    ("image_size", [32], "image_size must be a size like 32"),
    ("lr", float("nan"), "lr must be a number"),
    ("channels_last", "yes", "channels_last must be true or false"),
])
def test_bad_values_say_what_is_wrong(key, value, words):
    with pytest.raises(TrainConfigError) as info:
        TrainConfig.from_dict({key: value})
    assert words in str(info.value)
    assert "\n" not in str(info.value)


def test_from_graph_takes_the_documents_training_defaults():
    graph = load_graph("lenet5").graph
    meta = graph.meta["training"]
    config = TrainConfig.from_graph(graph)
    assert (config.lr, config.optimizer, config.batch_size, config.dataset) == \
        (meta["lr"], meta["optimizer"], meta["batch_size"], meta["dataset"])
    overridden = TrainConfig.from_graph(graph, epochs=1, lr=None, dataset="shapes")
    assert overridden.epochs == 1 and overridden.lr == meta["lr"] and overridden.dataset == "shapes"


def test_every_preset_has_valid_training_settings():
    from designer.graph.presets import preset_names
    for name in preset_names():
        TrainConfig.from_graph(load_graph(name).graph)


def test_a_typo_in_a_documents_settings_is_named():
    graph = load_graph("lenet5").graph
    graph.meta["training"] = dict(graph.meta["training"], epoch=3)
    with pytest.raises(TrainConfigError, match="the document's training settings: unknown setting 'epoch'"):
        TrainConfig.from_graph(graph)
