using TransferKit.Augment.Presets;
using TransferKit.Augment.Spec;
using TransferKit.Augment.Transforms;

namespace TransferKit.Augment.Tests;

public class SpecTests
{
    [Fact]
    public void TheIssueExampleParses()
    {
        var p = TransformPipeline.Parse("RandomResizedCrop(224,scale=(0.08,1)),RandomHorizontalFlip(0.5),ColorJitter(0.4,0.4,0.4,0.1),Normalize(imagenet)");
        Assert.Equal(4, p.Transforms.Count);
        var crop = Assert.IsType<RandomResizedCrop>(p.Transforms[0]);
        Assert.Equal((224, 224, 0.08, 1.0), (crop.Width, crop.Height, crop.Scale.Min, crop.Scale.Max));
        Assert.Equal(0.75, crop.Ratio.Min, 6);
        Assert.Equal(0.5, Assert.IsType<RandomHorizontalFlip>(p.Transforms[1]).P);
        var cj = Assert.IsType<ColorJitter>(p.Transforms[2]);
        Assert.Equal((0.4, 0.4, 0.4, 0.1), (cj.Brightness, cj.Contrast, cj.Saturation, cj.Hue));
        var n = Assert.IsType<Normalize>(p.Transforms[3]);
        Assert.Equal([0.485f, 0.456f, 0.406f], n.Mean);
        Assert.Equal((224, 224), p.OutputSize);
    }

    [Fact]
    public void EveryTransformRoundTripsThroughToString()
    {
        const string spec = "Resize(256),CenterCrop((200,180)),RandomResizedCrop(64,scale=(0.2,0.9),ratio=(3/4,4/3)),RandomHorizontalFlip(0.3)," +
            "RandomVerticalFlip(p=0.2),RandomRotation((-5,20)),RandomAffine(10,translate=(0.1,0.2),scale=(0.9,1.1),shear=(1,2,3,4))," +
            "ColorJitter(brightness=0.1,hue=0.05),RandomGrayscale(0.2),Grayscale(3),Normalize(caffe-imagenet),RandomErasing(0.5,value=random)";
        var p = TransformPipeline.Parse(spec);
        Assert.Equal(12, p.Transforms.Count);
        var again = TransformPipeline.Parse(p.ToString());
        Assert.Equal(p.ToString(), again.ToString());
        Assert.Equal((64, 64), p.OutputSize);
    }

    [Theory]
    [InlineData("RandomFlip(0.5)", "unknown transform 'RandomFlip'", 0)]
    [InlineData("randomhorizontalflip(0.5)", "did you mean 'RandomHorizontalFlip'", 0)]
    [InlineData("RandomHorizontalFlip(0.5", "expected ')'", 24)]
    [InlineData("Resize(224),CenterCrop(abc)", "size must be a number", 23)]
    [InlineData("RandomHorizontalFlip(0.5,0.7)", "at most 1 positional", 25)]
    [InlineData("RandomHorizontalFlip(q=0.5)", "no parameter 'q'", 23)]
    [InlineData("RandomHorizontalFlip(1.5)", "p must be in [0, 1]", 0)]
    [InlineData("Resize(12x)", "expected ')'", 9)]
    [InlineData("Normalize(nosuch)", "Unknown preprocessing preset 'nosuch'", 0)]
    [InlineData("RandomResizedCrop(32,scale=(0.5))", "scale must have 2 value(s)", 27)]
    [InlineData("ColorJitter(0.1) Resize(3)", "expected ',' between transforms", 17)]
    public void ErrorsSayWhatAndWhere(string spec, string problem, int position)
    {
        var e = Assert.Throws<TransformSpecException>(() => TransformPipeline.Parse(spec));
        Assert.Contains(problem, e.Problem);
        Assert.Equal(position, e.Position);
        Assert.Contains(spec, e.Message);
    }

    [Fact]
    public void LevelsArePresets()
    {
        Assert.Equal(4, AugmentLevels.Names.Count);
        foreach (var level in AugmentLevels.Names)
        {
            var p = TransformPipeline.Parse(level);
            Assert.Equal((224, 224), p.OutputSize);
            Assert.IsType<Normalize>(p.Transforms.Last(t => t is Normalize));
        }
        Assert.Equal("Resize(256),CenterCrop(224),Normalize(mean=(0.485,0.456,0.406),std=(0.229,0.224,0.225))", TransformPipeline.Parse("none").ToString());
        Assert.Contains("RandomErasing", TransformPipeline.Parse("strong").ToString());
        var mnist = AugmentLevels.Get("default", 28, Preprocessing.Mnist);
        Assert.Equal(1, mnist.OutputChannels);
        Assert.Throws<ArgumentException>(() => AugmentLevels.Get("extreme", 224, Preprocessing.Mnist));
    }

    [Fact]
    public void PreprocessingPresetsCarryTheirConventions()
    {
        var caffe = Preprocessing.Get("caffe-imagenet");
        Assert.Equal((ChannelOrder.Bgr, ValueRange.Byte, 256, 224), (caffe.Order, caffe.Range, caffe.ResizeShorterSide, caffe.CropSize));
        Assert.Equal([104f, 117f, 123f], caffe.Mean);
        Assert.Equal([1f, 1f, 1f], caffe.Std);
        var tv = Preprocessing.Get("torchvision-imagenet");
        Assert.Equal((ChannelOrder.Rgb, ValueRange.Unit), (tv.Order, tv.Range));
        Assert.Equal([0.229f, 0.224f, 0.225f], tv.Std);
        Assert.Same(tv, Preprocessing.Get("imagenet"));
        Assert.Equal((1, 28), (Preprocessing.Mnist.Channels, Preprocessing.Mnist.CropSize));
        Assert.Equal("Resize(256),CenterCrop(224),Normalize(mean=(104,117,123),std=(1,1,1),order=bgr,range=255)", caffe.EvaluationPipeline().ToString());
    }
}
