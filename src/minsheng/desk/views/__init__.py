"""The workbench's views, by screen: queues (lists, export, bulk dispatch), cases (detail and
actions), hotline (call entry), inbox (notifications)."""
