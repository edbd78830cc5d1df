# Stand-in for rclone/rclone:<tag>, which the manifests use only as the shell of the wait-for-model init
# container (`sh -ec ...` with date, ls, grep, sleep: all in the Debian minbase). No rclone binary.
ARG BASE=localhost/cdk8s-ml/debian:bookworm
FROM ${BASE}
LABEL org.opencontainers.image.description="cdk8s-ml test node: Debian shell standing in for rclone/rclone"
CMD ["sh"]
