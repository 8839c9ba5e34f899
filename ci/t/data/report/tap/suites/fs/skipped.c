1..0 # SKIP the kernel lacks CONFIG_TMPFS_XATTR (add CONFIG_TMPFS_XATTR=y to a config fragment)
