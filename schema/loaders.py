"""Per-request dataloaders (placeholder until the API lands)."""


class Loaders:
    def __init__(self, viewer_id: int | None) -> None:
        self.viewer_id = viewer_id
