"""MedUS: a SAM-MedUS-style promptable ultrasound segmentation model (training and export code)."""
