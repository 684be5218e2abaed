"""Long work as jobs: durable records (``models``), who may see and steer them (``service``), how a
worker runs and resumes them (``runner``) and the queue that hands them to workers (``queue``)."""
