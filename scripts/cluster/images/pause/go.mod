module cdk8s-ml.local/pause

go 1.22
