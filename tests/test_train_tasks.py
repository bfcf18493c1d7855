"""Segmentation, VAE and GAN trained for real on small graphs, and the task
metrics checked against scikit-learn's."""
import numpy as np
import pytest
import torch

from designer import load_graph
from designer.graph.model import Graph
from designer.train.config import TrainConfig
from designer.train.engine import Trainer
from designer.train.events import Done, Epoch, Error, Started, Step
from designer.train.tasks.segmentation import mean_iou


def train(graph, config, folder):
    events = []
    trainer = Trainer(graph, config, folder, events.append)
    trainer.run()
    assert isinstance(events[-1], Done), events[-1]
    return trainer, events


def of(kind, events):
    return [e for e in events if isinstance(e, kind)]


def small_unet() -> Graph:
    """U-Net in miniature, as in the paper: valid 3×3 convolutions, a 2×2 up-convolution,
    crop-and-concat: 1×44×44 in, 2×28×28 out (the centre of the image)."""
    g = Graph()
    g.add_node("Input", {"shape": [1, 44, 44], "name": "image"}, id="image")
    last = "image"

    def conv(node_id, channels, src, kernel=3, relu=True):
        g.add_node("Conv2d", {"out_channels": channels, "kernel_size": kernel}, id=node_id)
        g.connect(src, node_id)
        if not relu:
            return node_id
        g.add_node("ReLU", id=node_id + "_relu")
        g.connect(node_id, node_id + "_relu")
        return node_id + "_relu"

    skip = conv("enc2", 8, conv("enc1", 8, last))                 # 40×40
    g.add_node("MaxPool2d", {"kernel_size": 2, "stride": 2}, id="down")
    g.connect(skip, "down")                                        # 20×20
    deep = conv("mid2", 16, conv("mid1", 16, "down"))              # 16×16
    g.add_node("ConvTranspose2d", {"out_channels": 8, "kernel_size": 2, "stride": 2}, id="up")
    g.connect(deep, "up")                                          # 32×32
    g.add_node("Concat", {"num_inputs": 2, "crop": True}, id="skip")
    g.connect(skip, "skip")                                        # 40×40 cropped to 32×32
    g.connect("up", "skip")
    out = conv("dec2", 8, conv("dec1", 8, "skip"))                 # 28×28
    conv("classes", 2, out, kernel=1, relu=False)
    return g


def small_gan() -> Graph:
    g = Graph()
    gen, dis = "generator", "discriminator"
    g.add_node("Input", {"shape": [16], "name": "noise"}, id="noise", network=gen)
    g.add_node("Linear", {"out_features": 64}, id="g_fc", network=gen)
    g.add_node("ReLU", id="g_relu", network=gen)
    g.add_node("Linear", {"out_features": 256}, id="g_out", network=gen)
    g.add_node("Tanh", id="g_tanh", network=gen)
    g.add_node("Reshape", {"shape": [1, 16, 16]}, id="g_image", network=gen)
    g.chain("noise", "g_fc", "g_relu", "g_out", "g_tanh", "g_image")
    g.add_node("Input", {"shape": [1, 16, 16], "name": "image"}, id="image", network=dis)
    g.add_node("Flatten", id="d_flat", network=dis)
    g.add_node("Linear", {"out_features": 64}, id="d_fc", network=dis)
    g.add_node("LeakyReLU", {"negative_slope": 0.2}, id="d_relu", network=dis)
    g.add_node("Linear", {"out_features": 1}, id="d_logit", network=dis)
    g.chain("image", "d_flat", "d_fc", "d_relu", "d_logit")
    return g


@pytest.mark.slow
def test_a_small_unet_segments_shapes(tmp_path):
    config = TrainConfig(dataset="shapes", epochs=2, batch_size=16, lr=3e-3, limit=600, threads=1)
    _, events = train(small_unet(), config, tmp_path)
    start = events[0]
    assert isinstance(start, Started) and start.task == "segmentation"
    final = of(Epoch, events)[-1]
    assert final.val["mean_iou"] >= 0.6, final.val
    assert np.array(final.confusion).shape == (2, 2)  # two maps: foreground against background
    assert final.predictions is None
    picture = final.images["segmentation"]
    assert picture.dtype == np.uint8 and picture.shape[2] == 3


def test_mean_iou_and_pixel_accuracy_match_scikit_learn():
    from sklearn.metrics import confusion_matrix, jaccard_score
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 4, 5000)
    guess = np.where(rng.random(5000) < 0.7, truth, rng.integers(0, 4, 5000))
    confusion = torch.from_numpy(confusion_matrix(truth, guess, labels=range(4)))
    assert mean_iou(confusion) == pytest.approx(jaccard_score(truth, guess, average="macro"))


def test_a_segmentation_network_needs_masks(tmp_path):
    events = []
    Trainer(small_unet(), TrainConfig(dataset="digits", threads=1), tmp_path, events.append).run()
    assert isinstance(events[-1], Error) and events[-1].kind == "setup"
    assert "has no masks; train it on shapes" in events[-1].message


def test_the_vae_learns_and_samples_from_its_decoder(tmp_path):
    graph = load_graph("vae").graph
    trainer, events = train(graph, TrainConfig.from_graph(graph, epochs=2, threads=1), tmp_path)
    assert events[0].task == "vae"
    epoch = of(Epoch, events)[-1]
    first = np.mean([e.loss for e in of(Step, events)][:5])
    assert epoch.val["loss"] <= 0.7 * first, (first, epoch.val)
    assert set(epoch.val) == {"loss", "recon", "kl"}
    assert all(list(e.values) == ["recon", "kl"] for e in of(Step, events))   # the VAE's step values
    assert epoch.images["samples"].shape[2] == 3 and epoch.images["reconstructions"].dtype == np.uint8
    # samples are the decoder applied to z ~ N(0, I): the same as running its layers by hand
    model, task, device = trainer.task.nets["model"].eval(), trainer.task, trainer.device
    torch.manual_seed(5)
    sampled = task.sample(4, torch.zeros(1, 1, 28, 28, device=device), trainer.ctx)
    torch.manual_seed(5)
    z = torch.randn(4, 20, device=device)
    with torch.no_grad():
        by_hand = torch.sigmoid(model.dec_out(torch.tanh(model.dec_fc(z)))).reshape(4, 1, 28, 28)
    assert torch.allclose(sampled, by_hand, atol=1e-6)


def test_a_vae_that_returns_only_its_reconstruction(tmp_path):
    """μ and log σ² are then read off the Reparameterize block as it runs."""
    graph = load_graph("vae").graph
    graph.remove_nodes(["mu_out", "logvar_out"])
    _, events = train(graph, TrainConfig.from_graph(graph, epochs=1, threads=1, limit=300), tmp_path)
    kl = [e.values["kl"] for e in of(Step, events)]
    assert all(np.isfinite(kl)) and max(kl) > 0


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated")
def test_the_gan_runs_100_steps_without_nan(tmp_path):
    config = TrainConfig(dataset="digits", optimizer="adam", lr=2e-4, batch_size=32, epochs=3, max_steps=100,
                         threads=1)
    trainer, events = train(small_gan(), config, tmp_path)
    assert events[0].task == "gan"
    rows = of(Step, events)
    assert len(rows) == 100
    assert all(list(e.scalars()) == ["loss", "d_loss", "g_loss", "d_real", "d_fake"] for e in rows)
    assert all(np.isfinite(list(e.scalars().values())).all() for e in rows)
    assert all(e.loss == pytest.approx(e.values["d_loss"] + e.values["g_loss"], rel=1e-5) for e in rows)
    assert trainer.optimizers["generator"].param_groups[0]["betas"] == (0.5, 0.999)
    epochs = of(Epoch, events)
    assert epochs and all(e.val == {} for e in epochs)
    grid = epochs[-1].images["samples"]
    assert grid.shape == (8 * 18 + 2, 8 * 18 + 2, 3)  # 64 samples of 16×16, 2 pixels apart
    scripted = torch.jit.load(str(tmp_path / "model.pt"))  # the generator
    assert scripted(torch.zeros(3, 16)).shape == (3, 1, 16, 16)


def test_the_gan_preset_takes_a_step(tmp_path):
    graph = load_graph("gan").graph
    _, events = train(graph, TrainConfig.from_graph(graph, max_steps=2, batch_size=8, threads=1, limit=100),
                      tmp_path)
    assert len(of(Step, events)) == 2
