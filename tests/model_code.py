"""The model code the tutorials print, as text: what the parser, the trace and the command
line are tested on (one copy; the torch versions of these models are in torch_models.py)."""

# The MNIST model as the tutorial writes it (trailing spaces and the wrong flatten size kept).
MNIST = """\
class MNISTCNN(nn.Module):  
    def __init__(self):  
        super(MNISTCNN, self).__init__()  
        # 卷积层 1:输入通道 1,输出 16,核 3×3  
        self.conv1 = nn.Conv2d(1, 16, 3)  
        self.pool = nn.MaxPool2d(2, 2)  
        self.relu = nn.ReLU()  
        # 卷积层 2:输入通道 16,输出 32,核 3×3  
        self.conv2 = nn.Conv2d(16, 32, 3)  
        # 全连接层:输入特征数 32×12×12 → 4608,输出 10 类  
        self.fc = nn.Linear(32 * 12 * 12, 10)  

    def forward(self, x):  
        x = self.conv1(x)  
        x = self.relu(x)  
        x = self.pool(x)  
        x = self.conv2(x)  
        x = self.relu(x)  
        x = self.pool(x)  
        # 展平张量为向量  
        x = x.view(-1, 32 * 12 * 12)  
        x = self.fc(x)  
        return x  
"""

# The CIFAR-10 tutorial's script (one long line in the source), set out as Python.
CIFAR10 = """\
import torch
import torch.nn as nn

class CIFAR10Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, kernel_size=(3,3), stride=1, padding=1)
        self.act1 = nn.ReLU()
        self.drop1 = nn.Dropout(0.3)
        self.conv2 = nn.Conv2d(32, 32, kernel_size=(3,3), stride=1, padding=1)
        self.act2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(kernel_size=(2, 2))
        self.flat = nn.Flatten()
        self.fc3 = nn.Linear(8192, 512)
        self.act3 = nn.ReLU()
        self.drop3 = nn.Dropout(0.5)
        self.fc4 = nn.Linear(512, 10)

    def forward(self, x):
        # input 3x32x32, output 32x32x32
        x = self.act1(self.conv1(x))
        x = self.drop1(x)
        # input 32x32x32, output 32x32x32
        x = self.act2(self.conv2(x))
        # input 32x32x32, output 32x16x16
        x = self.pool2(x)
        # input 32x16x16, output 8192
        x = self.flat(x)
        # input 8192, output 512
        x = self.act3(self.fc3(x))
        x = self.drop3(x)
        # input 512, output 10
        x = self.fc4(x)
        return x

model = CIFAR10Model()
loss_fn = nn.CrossEntropyLoss()
"""


# The CNN of the convolution-arithmetic tutorial (one long line in the source), set out as Python.
