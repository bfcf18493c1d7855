"""Datasets: fitted to the graph's Input, split without leaks, offline first."""
import struct

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from designer.train.datasets import available_datasets, open_dataset, preview_samples
from designer.train.datasets.fit import adapt_channels, fit_float
from designer.train.datasets.split import stratified_split
from designer.train.errors import TrainSetupError


def test_digits_are_resized_to_the_graph_input():
    from sklearn.datasets import load_digits
    bunch = load_digits()
    source = open_dataset("digits", (1, 32, 32))
    assert source.image_shape == (1, 32, 32) and not source.flatten
    assert len(source.train) + len(source.val) == 1797
    assert source.train.images.dtype == torch.uint8 and source.train.images.shape[1:] == (1, 32, 32)
    # the same pixels as PyTorch's own bilinear resize of the scikit-learn images
    train_idx, val_idx = stratified_split(torch.from_numpy(bunch.target), 0.2, "digits")
    raw = (torch.from_numpy(bunch.images).float() / 16 * 255).round()[:, None] / 255
    expected = F.interpolate(raw, size=(32, 32), mode="bilinear", align_corners=False).clamp(0, 1)
    expected = (expected * 255).round().to(torch.uint8)
    assert torch.equal(source.train.images, expected[train_idx])
    assert torch.equal(source.val.images, expected[val_idx])
    assert torch.equal(source.val.labels, torch.from_numpy(bunch.target)[val_idx])


def test_grey_becomes_rgb_and_rgb_becomes_grey_like_pil():
    from PIL import Image
    rgb = torch.randint(0, 256, (1, 3, 5, 7), dtype=torch.uint8)
    grey = adapt_channels(rgb.float() / 255, 1)
    pil = np.asarray(Image.fromarray(rgb[0].permute(1, 2, 0).numpy(), "RGB").convert("L"), dtype=np.float32)
    assert np.abs(grey[0, 0].numpy() * 255 - pil).max() <= 1.0
    assert open_dataset("digits", (3, 16, 16)).train.images.shape[1:] == (3, 16, 16)
    x = torch.rand(2, 1, 4, 4)
    assert torch.equal(fit_float(x, (3, 4, 4)), x.expand(-1, 3, -1, -1))


def test_a_vector_input_takes_flattened_square_images():
    source = open_dataset("digits", (64,))
    assert source.image_shape == (1, 8, 8) and source.flatten and source.input_shape == (64,)
    assert open_dataset("digits", (784,)).image_shape == (1, 28, 28)
    with pytest.raises(TrainSetupError, match="vectors of 1000 values"):
        open_dataset("digits", (1000,))


def test_the_split_is_stratified_fixed_and_never_leaks():
    labels = torch.arange(1000) % 7
    a_train, a_val = stratified_split(labels, 0.2, "anything")
    b_train, b_val = stratified_split(labels, 0.2, "anything")
    assert torch.equal(a_train, b_train) and torch.equal(a_val, b_val)
    assert not set(a_train.tolist()) & set(a_val.tolist())
    assert sorted(a_train.tolist() + a_val.tolist()) == list(range(1000))
    counts = torch.bincount(labels[a_val], minlength=7)
    assert counts.min() >= 28 and counts.max() <= 29  # 20 % of each class
    # opened twice (another run, another seed, a resume): the same validation images
    one, two = open_dataset("shapes", (1, 24, 24)), open_dataset("shapes", (1, 24, 24))
    assert torch.equal(one.val.images, two.val.images)
    seen = {bytes(img.numpy()) for img in one.train.images}
    assert not any(bytes(img.numpy()) in seen for img in one.val.images)


def test_shapes_have_labels_and_matching_masks():
    source = open_dataset("shapes", (1, 32, 32), limit=300)
    images, labels, masks = source.train.images, source.train.labels, source.train.masks
    assert source.class_names == ["circle", "square", "triangle"] and source.mask_classes == 4
    assert masks.shape == (len(labels), 32, 32)
    for i in range(len(labels)):
        present = set(torch.unique(masks[i]).tolist())
        assert present == {0, int(labels[i]) + 1}
        inside = masks[i] > 0
        # the shape is brighter than its background in every image
        assert images[i, 0][inside].float().mean() > images[i, 0][~inside].float().mean() + 40
    assert torch.bincount(torch.cat([labels, source.val.labels])).tolist() == [100, 100, 100]


def _write_idx(path, array, magic):
    with open(path, "wb") as f:
        f.write(struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape))
        f.write(array.astype(np.uint8).tobytes())


def test_mnist_is_read_from_the_local_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("DESIGNER_DATA", str(tmp_path))
    monkeypatch.setenv("DESIGNER_OFFLINE", "1")
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (50, 28, 28))
    labels = np.arange(50) % 10
    for prefix in ("train", "t10k"):
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", images, 2051)
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels, 2049)
    source = open_dataset("mnist", (1, 28, 28), val_fraction=0.2)
    assert len(source.train) == 40 and len(source.val) == 10 and source.num_classes == 10
    first = int(source.train.labels[0])
    assert any(torch.equal(source.train.images[0, 0], torch.from_numpy(images[i].astype(np.uint8)))
               for i in np.nonzero(labels == first)[0])
    assert next(d for d in available_datasets() if d.name == "mnist").available


def test_offline_without_files_says_where_to_put_them(tmp_path, monkeypatch):
    monkeypatch.setenv("DESIGNER_DATA", str(tmp_path))
    monkeypatch.setenv("DESIGNER_OFFLINE", "1")
    with pytest.raises(TrainSetupError) as info:
        open_dataset("cifar10", (3, 32, 32))
    message = str(info.value)
    assert str(tmp_path / "cifar-10-batches-py") in message and "data_batch_1" in message
    assert "DESIGNER_OFFLINE" in message and "\n" not in message
    listed = {d.name: d for d in available_datasets()}
    assert listed["digits"].available and listed["shapes"].available and listed["shapes"].has_masks
    assert not listed["cifar10"].available and listed["cifar10"].num_classes == 10


def test_an_image_folder(tmp_path):
    from PIL import Image
    rng = np.random.default_rng(1)
    for cls in ("cat", "dog"):
        (tmp_path / cls).mkdir()
        for i in range(6):
            Image.fromarray(rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)).save(tmp_path / cls / f"{i}.png")
    source = open_dataset(f"folder:{tmp_path}", (1, 16, 16), val_fraction=0.25)
    assert source.class_names == ["cat", "dog"] and len(source.train) == 8 and len(source.val) == 4
    image, label = source.train.dataset[source.train.indices[0]]
    assert image.dtype == torch.uint8 and image.shape == (1, 16, 16)
    with pytest.raises(TrainSetupError, match="There is no folder"):
        open_dataset(f"folder:{tmp_path / 'nope'}", (1, 16, 16))
    with pytest.raises(TrainSetupError, match="no dataset 'imagenet'"):
        open_dataset("imagenet", (3, 224, 224))


def test_preview_samples_for_a_picker():
    preview = preview_samples("shapes", 6, shape=(3, 20, 20))
    assert preview["images"].shape == (6, 20, 20, 3) and preview["images"].dtype == np.uint8
    assert len(preview["labels"]) == 6 and preview["masks"].shape == (6, 20, 20)
    digits = preview_samples("digits", 4)
    assert digits["images"].shape == (4, 32, 32, 1) and digits["class_names"][3] == "3"
