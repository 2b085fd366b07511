import torch.nn as nn


class MNISTCNN(nn.Module):
    def __init__(self):
        super(MNISTCNN, self).__init__()
        # conv layer 1: 1 input channel, 16 outputs, 3x3 kernel
        self.conv1 = nn.Conv2d(1, 16, 3)
        self.pool = nn.MaxPool2d(2, 2)
        self.relu = nn.ReLU()
        # conv layer 2: 16 input channels, 32 outputs, 3x3 kernel
        self.conv2 = nn.Conv2d(16, 32, 3)
        # fully connected layer: 32x12x12 -> 4608 input features, 10 classes out
        self.fc = nn.Linear(32 * 12 * 12, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = self.relu(x)
        x = self.pool(x)
        x = self.conv2(x)
        x = self.relu(x)
        x = self.pool(x)
        # flatten the tensor into a vector
        x = x.view(-1, 32 * 12 * 12)
        x = self.fc(x)
        return x
