"""Batch augmentations: each output is what the augmentation promises, masks moved
with their images."""
import torch
import torch.nn.functional as F

from designer.train.augment import Augmenter, channel_stats, hflip, random_crop, random_resized_crop


def test_random_crop_is_a_window_of_the_padded_image():
    torch.manual_seed(0)
    x = torch.rand(6, 2, 9, 11)
    mask = (x[:, 0] * 4).long()
    out, moved = random_crop(x, mask, 3)
    assert out.shape == x.shape and moved.shape == mask.shape
    padded, padded_mask = F.pad(x, (3, 3, 3, 3)), F.pad(mask, (3, 3, 3, 3))
    for i in range(6):
        windows = [(dy, dx) for dy in range(7) for dx in range(7)
                   if torch.equal(padded[i, :, dy:dy + 9, dx:dx + 11], out[i])]
        assert windows, f"image {i} is no window of its padded self"
        dy, dx = windows[0]
        assert torch.equal(padded_mask[i, dy:dy + 9, dx:dx + 11], moved[i])


def test_hflip_mirrors_some_images_and_their_masks():
    torch.manual_seed(1)
    x = torch.rand(64, 1, 4, 5)
    mask = torch.randint(0, 3, (64, 4, 5))
    out, moved = hflip(x, mask)
    flipped = [i for i in range(64) if torch.equal(out[i], x[i].flip(-1))]
    kept = [i for i in range(64) if torch.equal(out[i], x[i])]
    assert len(flipped) + len(kept) == 64 and 16 < len(flipped) < 48
    assert all(torch.equal(moved[i], mask[i].flip(-1)) for i in flipped)


def test_random_resized_crop_keeps_the_size_and_the_mask_classes():
    torch.manual_seed(2)
    x = torch.rand(8, 3, 16, 16)
    mask = torch.randint(0, 4, (8, 16, 16))
    out, moved = random_resized_crop(x, mask)
    assert out.shape == x.shape and moved.shape == mask.shape
    assert set(torch.unique(moved).tolist()) <= {0, 1, 2, 3}
    assert out.min() >= x.min() - 1e-6 and out.max() <= x.max() + 1e-6  # interpolation, no new extremes


def test_normalize_uses_the_training_images_statistics():
    x = torch.rand(50, 3, 6, 6) * torch.tensor([1.0, 0.5, 0.2]).view(1, 3, 1, 1)
    mean, std = channel_stats(x)
    assert torch.allclose(mean.flatten(), x.mean(dim=(0, 2, 3)))
    assert torch.allclose(std.flatten(), x.permute(1, 0, 2, 3).reshape(3, -1).std(1))
    out = Augmenter(["normalize"], mean=mean, std=std).normalize(x)
    assert torch.allclose(out.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-5)
    assert torch.allclose(out.permute(1, 0, 2, 3).reshape(3, -1).std(1), torch.ones(3), atol=1e-4)
