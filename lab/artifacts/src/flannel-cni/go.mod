module normaldance.lab/flannel-cni

go 1.24
