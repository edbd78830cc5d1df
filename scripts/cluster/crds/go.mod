module cdk8s-ml.invalid/cluster/crds

go 1.26.0

require sigs.k8s.io/gateway-api v1.6.3 // indirect
