"""See inside a network: activations, kernels, predictions, inputs and the shape story.

Qt-free. `explain` and `filters` need only numpy; `activations`, `inputs`,
`predictions` and `weights` import torch, so import the modules one by one and
Help ▸ Explain works before torch has loaded.
"""
