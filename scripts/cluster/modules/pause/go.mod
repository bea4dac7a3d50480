// The pod sandbox ("pause") program of the local cluster: no registry can be reached, so the
// sandbox image is built here from this (scripts/cluster/images.py).
module wsgateway.local/cluster/pause

go 1.24.0
